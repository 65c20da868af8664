// A share's live gallery at `/g/<share id>#<guest token>` (the token in the fragment never
// reaches a server log or a Referer). The page reads the share's state (every frame so
// far) from the relay's blob store, then follows its channel live — WebSocket, else SSE,
// else long-polling, as the dashboard does. A guest gives a name (and the PIN, when the
// share has one: nothing shows until then) for a token of their own ([`session`]). Every
// answer so far comes from the relay's answer log, then live: each guest's latest marks,
// comments and picks ([`picks`]), shown on the grid and filtered by ([`controls`]); the
// page says until when it is open. Names, titles and comments are text, never HTML.

import type { GalleryFrame } from "../generated/GalleryFrame";
import type { ShareOptions } from "../generated/ShareOptions";
import { RelayConnection, type EventFrame, type Mode } from "../dashboard/connection.js";
import { Grid } from "./grid.js";
import { Answers, type Entry } from "./answers.js";
import { $ } from "./dom.js";
import { answer, applyFilters, wireControls } from "./controls.js";
import { configureDownloads } from "./downloads.js";
import { configureLive, wireLive } from "./live.js";
import { Selection } from "./picks.js";
import {
  become,
  channel,
  exchange as exchangeToken,
  explain,
  forget,
  linkToken,
  mySub,
  refusedForGood,
  share,
  storedGuest,
  token,
  wantsPin,
} from "./session.js";
import { Viewer } from "./viewer.js";

interface State {
  title?: string | null;
  expires?: number;
  options?: ShareOptions;
  frames: GalleryFrame[];
}

let connection: RelayConnection | undefined;
let closed = false;
/** The share asks for a PIN, and this guest has not given it yet. */
let locked = false;
const blobUrls = new Map<string, string>();
const answers = new Answers();

function notice(title: string, text: string): void {
  $("notice-title").textContent = title;
  $("notice-text").textContent = text;
  $("notice").hidden = false;
}

/** The studio closed the gallery (or its time is up): stop, and show nothing more. */
function close(): void {
  if (closed) return;
  closed = true;
  connection?.stop();
  grid.clear();
  const viewer = $<HTMLDialogElement>("viewer");
  if (viewer.open) viewer.close();
  $("empty").hidden = true;
  $("name-form").hidden = true;
  setMode("offline", "closed");
  notice("This gallery has closed", "The studio has closed this gallery, or its time is up. Ask the studio for a new link.");
  for (const url of blobUrls.values()) URL.revokeObjectURL(url);
  blobUrls.clear();
}

/** A blob of the share, fetched with the guest's token; its `blob:` URL. */
async function loadBlob(path: string): Promise<string | undefined> {
  const known = blobUrls.get(path);
  if (known) return known;
  for (let attempt = 0; attempt < 3 && !closed; attempt++) {
    try {
      const response = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
      if (response.ok) {
        const url = URL.createObjectURL(await response.blob());
        blobUrls.set(path, url);
        return url;
      }
      if (await refusedForGood(response)) {
        close();
        return undefined;
      }
      if (response.status === 404) return undefined;
    } catch {
      // The relay is away for a moment: try again.
    }
    await new Promise((resolve) => window.setTimeout(resolve, 500 * 2 ** attempt));
  }
  return undefined;
}

function counted(): void {
  const n = grid.size;
  $("count").textContent = n === 1 ? "1 frame" : `${n} frames`;
  $("empty").hidden = n > 0 || closed;
}

function setTitle(title: string | null | undefined): void {
  const text = title && title.trim() ? title.trim() : "Gallery";
  $("title").textContent = text;
  document.title = text;
}

/** Every frame so far, from the share's state the studio keeps on the relay. */
async function loadState(): Promise<void> {
  const path = `/v1/blobs/${encodeURIComponent(channel)}/state.json`;
  for (let attempt = 0; !closed; attempt++) {
    try {
      const response = await fetch(path, {
        headers: { authorization: `Bearer ${token()}` },
        cache: "no-cache",
      });
      if (await wantsPin(response)) {
        askPin();
        return;
      }
      if (response.ok) {
        const state = (await response.json()) as State;
        setTitle(state.title);
        showExpiry(state.expires);
        selection.configure(state.options?.choose);
        configureDownloads(state.options?.downloads);
        configureLive(state.options?.live, state.options?.live_overlay);
        for (const frame of state.frames ?? []) {
          grid.add(frame, false);
          decorate(frame.frame);
        }
        counted();
        applyFilters();
        return;
      }
      if (await refusedForGood(response)) {
        close();
        return;
      }
      if (response.status === 404) return; // nothing shared yet
    } catch {
      // Try again below.
    }
    await new Promise((resolve) => window.setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
  }
}

/** Every answer so far, from the share's answer log on the relay (a page at a time). */
async function loadAnswers(): Promise<void> {
  let after = 0;
  for (let attempt = 0; !closed && attempt < 8; ) {
    try {
      const response = await fetch(`/v1/shares/${encodeURIComponent(share)}/answers?after=${after}`, {
        headers: { authorization: `Bearer ${token()}` },
        cache: "no-cache",
      });
      if (await refusedForGood(response)) {
        close();
        return;
      }
      if (await wantsPin(response)) return;
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { answers: Entry[]; total: number; next: number };
      const touched = new Set<number>();
      for (const entry of body.answers) {
        const frame = answers.apply(entry);
        if (frame !== undefined) touched.add(frame);
      }
      for (const frame of touched) refreshFrame(frame);
      // `next` is where the next page starts (past lines the relay could not read, too).
      if (body.next <= after || body.next >= body.total) return;
      after = body.next;
    } catch {
      attempt++;
      await new Promise((resolve) => window.setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

function decorate(frame: number): void {
  grid.decorate(frame, {
    likes: answers.likes(frame),
    comments: answers.of(frame).comments.length,
    rating: answers.rating(frame),
    label: answers.label(frame),
    picked: selection.picked(frame),
  });
}

function refreshFrame(frame: number): void {
  decorate(frame);
  applyFilters();
  viewer.answered(frame);
}

/** Every frame's pick, and the selection bar (a selection sent or unlocked). */
function refreshPicks(): void {
  if (!selection.active) return;
  for (const f of grid.frames()) decorate(f.frame);
  selection.render();
  if (viewer.frame !== undefined) viewer.answered(viewer.frame);
}

/** "Open until 14 December" (the share's expiry, ms). */
function showExpiry(expires: number | undefined): void {
  const line = $("expires");
  if (!expires) {
    line.textContent = "";
    return;
  }
  const date = new Date(expires);
  const soon = expires - Date.now() < 86_400_000;
  line.textContent = `Open until ${date.toLocaleDateString([], { day: "numeric", month: "long" })}${
    soon ? ` ${date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}` : ""
  }`;
}

const MODE_TEXT: Record<Mode, string> = {
  connecting: "Connecting…",
  realtime: "Live",
  fallback: "Live (fallback)",
  offline: "Offline, retrying",
};

function setMode(mode: Mode, detail: string): void {
  const indicator = $("connection");
  indicator.dataset.mode = mode;
  indicator.textContent = closed ? "Closed" : MODE_TEXT[mode];
  indicator.title = detail;
}

function connect(): void {
  connection?.stop();
  if (closed || locked) return;
  connection = new RelayConnection(location.origin, token(), [channel], {
    snapshot() {},
    event(frame: EventFrame) {
      const event = frame.event;
      if (event.type === "gallery_frame") {
        if (grid.add(event.payload, true)) counted();
        decorate(event.payload.frame);
        applyFilters();
        viewer.refresh(event.payload);
      } else {
        const answered = answers.apply({ id: frame.id, ts: frame.ts, event } as Entry);
        if (answered !== undefined) refreshFrame(answered);
        if (event.type.startsWith("gallery_")) refreshPicks();
      }
    },
    mode(mode: Mode, detail: string) {
      setMode(mode, detail);
      if (mode !== "offline") $("busy").hidden = true;
    },
    busy(code: string, message: string) {
      const line = $("busy");
      line.textContent = explain(code, message);
      line.hidden = false;
    },
    gap() {
      // The relay restarted or trimmed its history: the share's state and its answer
      // log have everything.
      void loadState().then(loadAnswers);
    },
    refused() {
      // Revoked or expired for good, unless only this guest's own token is no good.
      void fetch(`/v1/blobs/${encodeURIComponent(channel)}/state.json`, {
        headers: { authorization: `Bearer ${linkToken}` },
      }).then(async (response) => {
        if (await refusedForGood(response)) close();
        else if (await wantsPin(response)) {
          forget();
          askPin();
        } else if (token() !== linkToken) {
          forget();
          askName();
          connect();
        }
      });
    },
  });
  connection.start();
}

function showGuest(name: string): void {
  const label = $("viewer-name");
  label.textContent = `Viewing as ${name}`;
  label.hidden = false;
  $("name-form").hidden = true;
}

function askName(): void {
  const form = $<HTMLFormElement>("name-form");
  form.hidden = false;
  $("viewer-name").hidden = true;
}

/** The share wants its PIN: show only the prompt (name and PIN) until it is given. */
function askPin(): void {
  if (locked) return;
  locked = true;
  connection?.stop();
  setMode("offline", "a PIN is needed");
  $("empty").hidden = true;
  $("filters").hidden = true;
  $("pin-field").hidden = false;
  $<HTMLInputElement>("pin-input").required = true;
  notice("This gallery asks for a PIN", "Write your name and the PIN the studio gave you with the link.");
  askName();
}

async function exchange(name: string): Promise<void> {
  const error = $("name-error");
  error.textContent = "";
  const pin = locked ? $<HTMLInputElement>("pin-input").value.trim() : undefined;
  const outcome = await exchangeToken(name, pin);
  if ("error" in outcome) {
    if (outcome.final) close();
    else error.textContent = outcome.error;
    return;
  }
  become(outcome.guest);
  showGuest(name);
  if (locked) {
    locked = false;
    $("notice").hidden = true;
    $("pin-field").hidden = true;
    $<HTMLInputElement>("pin-input").value = "";
    $("filters").hidden = false;
    void loadState().then(loadAnswers);
  }
  refreshPicks();
  connect();
}

// ---- Start ---------------------------------------------------------------------------

const grid = new Grid(
  $<HTMLUListElement>("grid"),
  loadBlob,
  (frame) => viewer.open(frame),
  (frame) => void selection.toggle(frame),
);
const selection = new Selection({
  answers,
  me: mySub,
  send: answer,
  changed: refreshFrame,
  say: (text) => {
    const line = $("selection-error");
    line.textContent = text;
  },
});
const viewer = new Viewer({
  answers,
  grid,
  me: mySub,
  cached: (path) => blobUrls.get(path),
  loadBlob,
  picked: (frame) => selection.picked(frame),
});

function start(): void {
  if (!linkToken || !channel || !share) {
    setMode("offline", "incomplete link");
    $("empty").hidden = true;
    notice("This link is incomplete", "Open the whole link the studio sent (it ends with a long code after #).");
    return;
  }
  const guest = storedGuest();
  if (guest) {
    become(guest);
    showGuest(guest.name);
  } else {
    askName();
  }
  $<HTMLFormElement>("name-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $<HTMLInputElement>("name-input").value.trim();
    if (!name) {
      $("name-error").textContent = "Write the name the studio will see beside your answers.";
      return;
    }
    void exchange(name.slice(0, 64));
  });
  wireLive();
  wireControls({
    answers,
    grid,
    viewer,
    selection,
    refreshFrame,
    refreshPicks,
    close,
    askName,
  });
  counted();
  void loadState().then(loadAnswers);
  connect();
}

start();
