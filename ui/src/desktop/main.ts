// The tray window: frames arriving with thumbnails and the state of each copy, cameras,
// drives, relay and uploads, session totals, Pause / Resume and the shutter. Engine events
// trigger a fresh snapshot.
//
// - this module: the overview (frames, cards, totals), its buttons, and start-up.
// - `progress`: copies and uploads in flight, a bar each.
// - `settings`: the Settings form.
// - `sessions`: sessions and the guests' share link.
// - `camera`: the camera's key settings; `cmds`: the app's commands; `dom`: helpers.

import type { Snapshot } from "../generated/Snapshot";
import type { FrameView } from "../generated/FrameView";
import * as cmds from "./cmds.js";
import { renderCameraControls } from "./camera.js";
import { $, bytes, el } from "./dom.js";
import { progress, renderProgress } from "./progress.js";
import { wireSettings } from "./settings.js";
import { loadSessions, routeHash, wireSessions } from "./sessions.js";
import { loadShotlist, wireShotlist } from "./shotlist.js";
import { renderLiveView, sessionChanged, wireLiveView } from "./liveview.js";

/** Each frame's thumbnail as a `data:` URL, when it was asked for, and how often. */
const thumbs = new Map<number, { url: string | null; at: number; tries: number; pending: boolean }>();
const THUMB_RETRY_MS = 4000;
let current: Snapshot | null = null;

function renderFrames(frames: FrameView[]): void {
  const list = $("frames");
  $("no-frames").hidden = frames.length > 0;
  const items = frames.map((f) => {
    const li = el("li", { class: "frame", "data-id": String(f.id), "data-name": f.name });
    const img = el("img", { class: "thumb", alt: "" }) as HTMLImageElement;
    const cached = thumbs.get(f.id);
    if (cached?.url) img.src = cached.url;
    // Asked again until the engine's own thumbnail is likely made (a few seconds after
    // the frame is stored); until then the frame's embedded preview, or nothing.
    const due = cached === undefined || (!cached.pending && performance.now() - cached.at > THUMB_RETRY_MS && cached.tries < 3);
    if (due && f.state === "stored") {
      const entry = { url: cached?.url ?? null, at: performance.now(), tries: (cached?.tries ?? 0) + 1, pending: true };
      thumbs.set(f.id, entry);
      void cmds.thumbnail(f.id).then((url) => {
        entry.pending = false;
        entry.at = performance.now();
        if (url) {
          entry.url = url;
          img.src = url;
        }
      });
    }
    const text = el("div");
    text.append(el("div", { class: "name" }, f.name), el("div", { class: "muted" }, `${f.path ?? ""} · ${bytes(f.size)}`));
    if (f.feedback) text.append(el("div", { class: "feedback", "aria-label": `Guests: ${f.feedback}` }, f.feedback));
    const badges = el("div", { class: "badges" });
    badges.append(el("span", { class: "badge library", "data-state": f.state }, f.state === "stored" ? "in library" : f.state));
    for (const [target, state] of f.targets) {
      badges.append(el("span", { class: "badge target", "data-target": target, "data-state": state }, `${target}: ${state}`));
    }
    if (f.upload) {
      badges.append(el("span", { class: "badge upload", "data-state": f.upload }, f.upload === "done" ? "uploaded" : `upload: ${f.upload}`));
    }
    // A click on the thumbnail opens the frame's preview in the system's viewer.
    const open = el("button", { class: "thumb-open", type: "button", title: `Open the preview of ${f.name}`, "aria-label": `Open the preview of ${f.name}` });
    open.append(img);
    open.addEventListener("click", () => void cmds.openFrame(f.id).catch((e) => { open.title = `Cannot open it: ${String(e)}`; }));
    li.append(open, text, badges);
    return li;
  });
  list.replaceChildren(...items);
}

/** Fire the shutter; what the camera said goes beside the button. */
async function capture(): Promise<void> {
  const status = $("capture-status");
  status.className = "capture-status";
  status.textContent = "Capturing…";
  try {
    const said = await cmds.capture();
    status.textContent = said || "Captured";
  } catch (e) {
    status.className = "capture-status refused";
    status.textContent = `Not captured: ${String(e)}`;
  }
}

function render(s: Snapshot): void {
  current = s;
  $("state-dot").dataset.state = s.state;
  $("summary").textContent = s.summary;
  $("session").textContent = s.session;
  $("relay").textContent = s.relay;
  const problem = $("problem");
  problem.hidden = !s.problem;
  problem.textContent = s.problem ?? "";
  $("pause").textContent = s.paused ? "Resume" : "Pause";
  $("open-dashboard").hidden = !s.dashboard;
  $("capture").hidden = !s.cameras.some((c) => c.state === "connected");
  const t = s.totals;
  const totals = $("totals");
  totals.className = "card totals";
  totals.replaceChildren(
    el("span", { class: "big", id: "stored-count" }, String(t.stored)),
    el("span", {}, "frames stored"),
    el("span", { class: "muted" }, `${t.duplicates} duplicates · ${t.failed} failed · ${t.queue} copies to make`),
  );
  const space = s.library_space;
  if (space && space.state !== "unknown") {
    const room = space.frames_room === undefined || space.frames_room === null ? "" : ` · room for about ${space.frames_room.toLocaleString("en-US")} frames`;
    const warning = space.state === "ok" ? "" : space.state === "low" ? " · getting full" : " · almost full";
    totals.append(el("span", { id: "library-space", class: `library-space state-${space.state}`, "data-state": space.state }, `Library ${bytes(space.free_bytes)} free${room}${warning}`));
  }
  // The lines are drawn afresh; the settings' controls are kept (see camera.ts).
  const cameras = $("camera-lines");
  cameras.replaceChildren(el("strong", {}, "Cameras"));
  if (s.cameras.length === 0) cameras.append(el("div", { class: "muted" }, "none connected"));
  for (const c of s.cameras) {
    const extra = [c.battery !== undefined ? `battery ${c.battery}%` : "", c.card_free_bytes !== undefined ? `card ${bytes(c.card_free_bytes)} free` : ""].filter(Boolean).join(" · ");
    cameras.append(el("div", { "data-port": c.port }, `${c.model}: ${c.state}${extra ? " · " + extra : ""}`));
    if (c.message) cameras.append(el("div", { class: "muted" }, c.message));
  }
  renderCameraControls($("camera-controls"), s.cameras, () => void refresh());
  // The newest frame (frames come newest first) under the overlay while live view is off.
  const newest = s.frames.length > 0 ? thumbs.get(s.frames[0].id)?.url ?? null : null;
  renderLiveView(s.cameras, newest);
  const targets = $("targets");
  targets.className = "card";
  targets.replaceChildren(el("strong", {}, "Backup drives"));
  for (const d of s.targets) {
    targets.append(el("div", { class: "target", "data-target": d.name, "data-state": d.state }, `${d.name}: ${d.state} · ${bytes(d.free_bytes)} free · ${d.verified} verified, ${d.pending} waiting${d.failed ? `, ${d.failed} failed` : ""}`));
  }
  const uploads = $("uploads");
  uploads.className = "card";
  uploads.hidden = !s.uploads;
  if (s.uploads) {
    uploads.replaceChildren(el("strong", {}, "Cloud"), el("div", {}, `${s.uploads.done} uploaded · ${s.uploads.pending} to go · ${s.uploads.failed} failed`));
  }
  renderFrames(s.frames);
  renderProgress();
}

let refreshing = false;
let again = false;
async function refresh(): Promise<void> {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    render(await cmds.snapshot());
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      setTimeout(() => void refresh(), 150);
    }
  }
}

function wire(): void {
  wireSettings(refresh);
  $("pause").addEventListener("click", () => void cmds.setPaused(!(current?.paused ?? false)).then(refresh));
  $("capture").addEventListener("click", () => void capture());
  // The tethering apps' shortcuts: F12, and Ctrl+K (Cmd+K on a Mac); not while typing.
  document.addEventListener("keydown", (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
    const shortcut = e.key === "F12" || ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k");
    if (!shortcut || typing || $("capture").hidden) return;
    e.preventDefault();
    void capture();
  });
  $("open-library").addEventListener("click", () => void cmds.openLibrary());
  $("open-dashboard").addEventListener("click", () => void cmds.openDashboard());
  $("transfer-report").addEventListener("click", () => void cmds.transferReport().catch((e) => alert(String(e))));
}

async function start(): Promise<void> {
  wire();
  wireSessions({
    refresh: async () => {
      await refresh();
      await loadShotlist();
      sessionChanged();
    },
    session: () => current?.session ?? "",
  });
  wireShotlist();
  wireLiveView();
  routeHash();
  void loadSessions().catch(() => undefined);
  let pending: ReturnType<typeof setTimeout> | null = null;
  await cmds.onEngineEvent((event) => {
    if (progress(event)) renderProgress();
    // A frame of an item ticks its view.
    if (event.type === "shot_captured" && event.payload.item) void loadShotlist();
    if (pending === null) {
      pending = setTimeout(() => {
        pending = null;
        void refresh();
      }, 200);
    }
  });
  await refresh();
  void loadSessions().catch(() => undefined);
  void loadShotlist();
  // While the engine is starting (or could not start) look again; once it runs, its
  // events say when something changed.
  setInterval(() => {
    if (!current || current.problem || current.library === "") {
      void refresh();
      void loadShotlist();
    }
  }, 3000);
}

void start();
