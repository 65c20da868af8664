// The live view panel: the camera's latest picture (asked for one at a time: the window
// only ever shows the newest, and live view runs while the panel asks), focus drives with
// the camera's answer, a grid (thirds, centre) and the session's layout overlay over the
// picture, or over the last frame while live view is off.

import type { CameraStatus } from "../generated/CameraStatus";
import * as cmds from "./cmds.js";
import { $ } from "./dom.js";

let running = false;
let seq = 0;
let shown: string | null = null;

function show(url: string): void {
  const img = $<HTMLImageElement>("live-picture");
  img.src = url;
  img.hidden = false;
  if (shown && shown.startsWith("blob:")) URL.revokeObjectURL(shown);
  shown = url;
}

async function loop(): Promise<void> {
  while (running) {
    // A hidden window does not watch: live view stops on the camera after its idle time.
    if (document.hidden) {
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    try {
      const picture = await cmds.liveFrame(seq);
      if (!running) break;
      if (picture) {
        seq = picture.seq;
        show(URL.createObjectURL(picture.jpeg));
        $("live-picture").dataset.seq = String(seq);
      }
    } catch (e) {
      $("live-status").textContent = String(e);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

function setRunning(on: boolean): void {
  running = on;
  const button = $<HTMLButtonElement>("live-toggle");
  button.textContent = on ? "Stop live view" : "Start live view";
  button.setAttribute("aria-pressed", String(on));
  if (on) {
    $("live-status").textContent = "Starting live view…";
    void loadOverlay();
    void loop();
  } else {
    void cmds.liveStop();
  }
}

async function loadOverlay(): Promise<void> {
  const o = await cmds.overlay().catch(() => null);
  const img = $<HTMLImageElement>("live-overlay");
  img.hidden = !o?.data_url;
  if (o?.data_url) {
    img.src = o.data_url;
    img.style.opacity = String(o.opacity);
    $<HTMLInputElement>("overlay-opacity").value = String(Math.round(o.opacity * 100));
  }
  $("overlay-clear").hidden = !o;
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
        .then((said) => ($("live-focus").textContent = said))
        .catch((e) => ($("live-focus").textContent = String(e)));
    });
  }
  $<HTMLSelectElement>("live-grid").addEventListener("change", (e) => {
    $("live-grid-lines").className = `grid-${(e.target as HTMLSelectElement).value}`;
  });
  $("overlay-pick").addEventListener("click", () => {
    void cmds.pickFile("Layout overlay (a PNG with transparency)", "PNG").then(async (path) => {
      if (!path) return;
      const opacity = Number($<HTMLInputElement>("overlay-opacity").value) / 100;
      await cmds.setOverlay(path, opacity).catch((e) => ($("live-status").textContent = String(e)));
      await loadOverlay();
    });
  });
  $("overlay-clear").addEventListener("click", () => void cmds.setOverlay(null, 0).then(loadOverlay));
  $<HTMLInputElement>("overlay-opacity").addEventListener("input", (e) => {
    $("live-overlay").style.opacity = String(Number((e.target as HTMLInputElement).value) / 100);
  });
  $<HTMLInputElement>("overlay-opacity").addEventListener("change", () => {
    void cmds.overlay().then((o) => {
      if (o) void cmds.setOverlay(o.path, Number($<HTMLInputElement>("overlay-opacity").value) / 100);
    });
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
  const status = $("live-status");
  if (running) {
    status.textContent = live?.on ? `Live from ${camera.model}` : live?.message ?? "Starting live view…";
  } else {
    status.textContent = live?.message ?? "Live view is off.";
  }
  if (live?.focus) $("live-focus").textContent = live.focus;
  if (!running && lastFrame && shown !== lastFrame) show(lastFrame);
}
