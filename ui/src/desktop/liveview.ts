// The live view panel: the camera's latest picture (asked for one at a time: the window
// only ever shows the newest, and live view runs while the panel asks), focus drives with
// the camera's answer, a grid (thirds, centre) and the session's layout overlay over the
// picture, or over the last frame while live view is off. Errors go to the panel's alert
// line, apart from the status the camera's state writes.

import type { CameraStatus } from "../generated/CameraStatus";
import * as cmds from "./cmds.js";
import { $ } from "./dom.js";

let running = false;
/** Each start's own number: a loop of an earlier start ends at its next turn. */
let generation = 0;
let seq = 0;
let shown: string | null = null;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function show(url: string): void {
  const img = $<HTMLImageElement>("live-picture");
  img.src = url;
  img.hidden = false;
  if (shown && shown.startsWith("blob:")) URL.revokeObjectURL(shown);
  shown = url;
}

function alertLine(text: string): void {
  $("live-error").textContent = text;
}

async function loop(mine: number): Promise<void> {
  const current = (): boolean => running && mine === generation;
  while (current()) {
    // A hidden window does not watch: live view stops on the camera after its idle time.
    if (document.hidden) {
      await sleep(1000);
      continue;
    }
    try {
      const picture = await cmds.liveFrame(seq);
      if (!current()) break;
      if (picture) {
        seq = picture.seq;
        show(URL.createObjectURL(picture.jpeg));
        $("live-picture").dataset.seq = String(seq);
        alertLine("");
      }
    } catch (e) {
      if (!current()) break;
      alertLine(String(e));
      await sleep(2000);
    }
  }
}

function setRunning(on: boolean): void {
  running = on;
  generation += 1;
  $("live-toggle").textContent = on ? "Stop live view" : "Start live view";
  if (on) {
    // The engine may have restarted (Settings saved): its pictures count from 1 again.
    seq = 0;
    setStatus("Starting live view…");
    void loadOverlay();
    void loop(generation);
  } else {
    void cmds.liveStop();
  }
}

function setStatus(text: string): void {
  const status = $("live-status");
  if (status.textContent !== text) status.textContent = text;
}

async function loadOverlay(): Promise<void> {
  const img = $<HTMLImageElement>("live-overlay");
  try {
    const o = await cmds.overlay();
    img.hidden = !o?.data_url;
    if (o?.data_url) {
      img.src = o.data_url;
      img.style.opacity = String(o.opacity);
      $<HTMLInputElement>("overlay-opacity").value = String(Math.round(o.opacity * 100));
    }
    $("overlay-clear").hidden = !o;
  } catch (e) {
    // Kept but unreadable (moved, deleted): say so, and let it be cleared.
    img.hidden = true;
    $("overlay-clear").hidden = false;
    alertLine(`Layout overlay: ${String(e)}`);
  }
}

/** Wire the panel's controls once. */
export function wireLiveView(): void {
  $("live-toggle").addEventListener("click", () => setRunning(!running));
  for (const b of document.querySelectorAll<HTMLButtonElement>("[data-focus]")) {
    b.addEventListener("click", () => {
      const drive = b.dataset.focus ?? "auto";
      $("live-focus").textContent = `${drive}…`;
      void cmds
        .cameraFocus(drive)
        .then((said) => {
          $("live-focus").textContent = said;
          alertLine("");
        })
        .catch((e) => {
          $("live-focus").textContent = "";
          alertLine(String(e));
        });
    });
  }
  $<HTMLSelectElement>("live-grid").addEventListener("change", (e) => {
    $("live-grid-lines").className = `grid-${(e.target as HTMLSelectElement).value}`;
  });
  $("overlay-pick").addEventListener("click", () => {
    void cmds.pickFile("Layout overlay (a PNG with transparency)", "PNG").then(async (path) => {
      if (!path) return;
      const opacity = Number($<HTMLInputElement>("overlay-opacity").value) / 100;
      try {
        await cmds.setOverlay(path, opacity);
        alertLine("");
      } catch (e) {
        alertLine(`Layout overlay: ${String(e)}`);
      }
      await loadOverlay();
    });
  });
  $("overlay-clear").addEventListener("click", () => {
    void cmds
      .setOverlay(null, 0)
      .then(() => alertLine(""))
      .catch((e) => alertLine(String(e)))
      .then(loadOverlay);
  });
  $<HTMLInputElement>("overlay-opacity").addEventListener("input", (e) => {
    $("live-overlay").style.opacity = String(Number((e.target as HTMLInputElement).value) / 100);
  });
  // Kept when the slider is let go (not on every step of it).
  $<HTMLInputElement>("overlay-opacity").addEventListener("change", () => {
    const opacity = Number($<HTMLInputElement>("overlay-opacity").value) / 100;
    void cmds.setOverlayOpacity(opacity).catch((e) => alertLine(String(e)));
  });
  window.addEventListener("beforeunload", () => void cmds.liveStop());
  void loadOverlay();
}

/** The session changed: its own overlay. */
export function sessionChanged(): void {
  void loadOverlay();
}

/** Show the panel while a camera is connected, live view's state, and the last frame
 * (`lastFrame`, a thumbnail URL) while live view is off. */
export function renderLiveView(cameras: CameraStatus[], lastFrame: string | null): void {
  const camera = cameras.find((c) => c.state === "connected");
  $("liveview").hidden = !camera;
  if (!camera) {
    if (running) setRunning(false);
    return;
  }
  const live = camera.live;
  if (running) {
    setStatus(live?.on ? `Live from ${camera.model}` : live?.message ?? "Starting live view…");
  } else {
    setStatus(live?.message ?? "Live view is off.");
  }
  if (live?.focus && !$("live-focus").textContent?.endsWith("…")) $("live-focus").textContent = live.focus;
  if (!running && lastFrame && shown !== lastFrame) show(lastFrame);
}
