// The gallery page's controls: the open frame's answers (Like, stars, colour labels, the
// comment, Pick) and downloads, the filter bar over the grid, and sending one answer
// to the relay — shown at once here, and by the relay to every page of the share.

import type { Answers } from "./answers.js";
import { LABELS } from "./answers.js";
import { $ } from "./dom.js";
import { download, downloadOriginal, downloadPicks } from "./downloads.js";
import type { Grid } from "./grid.js";
import type { Selection } from "./picks.js";
import { channel, explain, mySub, refusedForGood, storedGuest, token } from "./session.js";
import type { Viewer } from "./viewer.js";

/** What the controls work with, from the page. */
export interface Parts {
  answers: Answers;
  grid: Grid;
  viewer: Viewer;
  selection: Selection;
  /** A frame's answers changed: show it. */
  refreshFrame(frame: number): void;
  /** The picks (and the selection's lock) changed: show them. */
  refreshPicks(): void;
  /** The gallery has closed for good. */
  close(): void;
  /** Ask for the guest's name (they have not given it). */
  askName(): void;
}

let parts: Parts | undefined;

/** Show only the frames the filter bar asks for. */
export function applyFilters(): void {
  if (!parts) return;
  const { answers, grid } = parts;
  const min = Number($<HTMLSelectElement>("filter-rating").value);
  const label = $<HTMLSelectElement>("filter-label").value;
  const liked = $<HTMLInputElement>("filter-liked").checked;
  const commented = $<HTMLInputElement>("filter-commented").checked;
  const mine = $<HTMLInputElement>("filter-mine").checked;
  const me = mySub();
  const active = min > 0 || label !== "" || liked || commented || mine;
  const shown = grid.filter(
    (f) =>
      (min === 0 || (answers.rating(f.frame) ?? 0) >= min) &&
      (label === "" || answers.label(f.frame) === label) &&
      (!liked || answers.likes(f.frame) > 0) &&
      (!commented || answers.of(f.frame).comments.length > 0) &&
      (!mine || (me !== undefined && answers.answeredBy(f.frame, me))),
  );
  $("filter-count").textContent = active ? `${shown} of ${grid.size} shown` : "";
}

/** A publish id: random, and unique enough (no `crypto.randomUUID` on plain http). */
function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Send one answer; shown at once, and by the relay to every page of the share. */
export async function answer(type: string, payload: Record<string, unknown>): Promise<boolean> {
  const error = $("answer-error");
  error.textContent = "";
  const sub = mySub();
  if (!parts) return false;
  const { answers, refreshFrame, refreshPicks, close, askName } = parts;
  if (sub === undefined) {
    error.textContent = "Give your name first (at the top of the page), so the studio knows who answered.";
    askName();
    return false;
  }
  const id = newId();
  const event = { type, payload };
  const response = await fetch(`/v1/channels/${encodeURIComponent(channel)}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
    body: JSON.stringify({ id, event }),
  }).catch(() => undefined);
  if (!response) {
    error.textContent = "The gallery cannot be reached: try again in a moment.";
    return false;
  }
  if (await refusedForGood(response)) {
    close();
    return false;
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
    error.textContent = explain(body.code, body.message ?? `Not accepted (HTTP ${response.status}).`);
    return false;
  }
  // The relay keeps a guest's answer under an id of its own (`g:<guest>:<id>`).
  const kept = (await response.json().catch(() => ({}))) as { id?: string };
  const name = storedGuest()?.name ?? "You";
  const entry = { id: kept.id ?? id, ts: Date.now(), event: { type, payload: { ...payload, sub, name } } };
  const frame = answers.apply(entry, true);
  if (frame !== undefined) refreshFrame(frame);
  refreshPicks();
  return true;
}

/** Wire the open frame's buttons, the comment form, the downloads and the filter bar. */
export function wireControls(given: Parts): void {
  parts = given;
  const { answers, grid, viewer, selection } = given;
  $("pick").addEventListener("click", () => {
    const frame = viewer.frame;
    if (frame !== undefined) void selection.toggle(frame);
  });
  $("download").addEventListener("click", () => {
    const frame = viewer.frame;
    const name = frame === undefined ? undefined : grid.get(frame)?.name;
    if (frame !== undefined && name !== undefined) void download(frame, name);
  });
  $("download-original").addEventListener("click", () => {
    const frame = viewer.frame;
    const name = frame === undefined ? undefined : grid.get(frame)?.name;
    if (frame !== undefined && name !== undefined) void downloadOriginal(frame, name);
  });
  $("download-picks").addEventListener("click", () => {
    const me = mySub();
    if (me !== undefined) void downloadPicks(answers.picked(me));
  });
  $("like").addEventListener("click", () => {
    const frame = viewer.frame;
    if (frame === undefined) return;
    const me = mySub();
    const liked = me !== undefined && answers.of(frame).likes.get(me)?.value === true;
    void answer("gallery_like", { frame, liked: !liked });
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>(".star")) {
    b.addEventListener("click", () => {
      const frame = viewer.frame;
      if (frame !== undefined) void answer("gallery_rating", { frame, stars: Number(b.dataset.stars) });
    });
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>(".swatch")) {
    b.addEventListener("click", () => {
      const frame = viewer.frame;
      const label = b.dataset.label ?? "none";
      if (frame !== undefined && (label === "none" || LABELS.includes(label as (typeof LABELS)[number]))) {
        void answer("gallery_label", { frame, label });
      }
    });
  }
  $<HTMLFormElement>("comment-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const frame = viewer.frame;
    const input = $<HTMLTextAreaElement>("comment-input");
    const text = input.value.trim();
    if (frame === undefined || !text) return;
    if ([...text].length > 2000) {
      $("answer-error").textContent = "A comment is at most 2,000 characters.";
      return;
    }
    void answer("gallery_comment", { frame, text }).then((sent) => {
      if (sent) input.value = "";
    });
  });
  $<HTMLFormElement>("filters").addEventListener("change", applyFilters);
  $<HTMLFormElement>("filters").addEventListener("submit", (event) => event.preventDefault());
  $<HTMLFormElement>("filters").addEventListener("change", applyFilters);
  $<HTMLFormElement>("filters").addEventListener("submit", (event) => event.preventDefault());
}
