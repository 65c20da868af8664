// The studio's live view on the gallery page, when the studio shares it: "Watch live"
// asks the relay for a one-use address of the stream (`GET /v1/shares/<id>/live` with the
// guest's token and `Accept: application/json`), which a plain <img> then shows as it comes
// (MJPEG). No token goes into an address. The stream ends when live view stops or after
// an hour; the page asks again while the guest watches. The studio's layout overlay, when
// it shares one (a PNG blob of the share), lies over the picture.

import { $ } from "./dom.js";
import { explain, share, token } from "./session.js";

let watching = false;
let overlayAddress: string | undefined;
let overlayShown: string | undefined;

/** The overlay's picture (fetched with the guest's token) over the stream. */
async function showOverlay(): Promise<void> {
  const img = $<HTMLImageElement>("live-overlay");
  if (!overlayAddress) {
    img.hidden = true;
    return;
  }
  if (overlayShown !== overlayAddress) {
    const response = await fetch(overlayAddress, { headers: { authorization: `Bearer ${token()}` } }).catch(() => undefined);
    if (!response?.ok) return;
    img.src = URL.createObjectURL(await response.blob());
    overlayShown = overlayAddress;
  }
  img.hidden = !watching;
}

async function open(): Promise<void> {
  const img = $<HTMLImageElement>("live-stream");
  const status = $("live-note");
  const response = await fetch(`/v1/shares/${encodeURIComponent(share)}/live`, {
    headers: { authorization: `Bearer ${token()}`, accept: "application/json" },
  }).catch(() => undefined);
  if (!watching) return;
  if (!response || !response.ok) {
    const body = response ? ((await response.json().catch(() => ({}))) as { code?: string; message?: string }) : {};
    status.textContent = explain(body.code, body.message ?? "Live view cannot be reached right now.");
    window.setTimeout(() => void (watching && open()), 5000);
    return;
  }
  const { url } = (await response.json()) as { url: string };
  status.textContent = "Live from the studio's camera: it shows as the photographer frames the next shot.";
  img.hidden = false;
  img.src = url;
}

/** Show "Watch live" when the share has live view (`live` in its options), with its
 * layout overlay (`live_overlay`, a blob's address) if any. */
export function configureLive(live = false, overlay?: string): void {
  $("live-box").hidden = !live;
  overlayAddress = overlay;
  if (!live && watching) toggle();
  void showOverlay();
}

function toggle(): void {
  watching = !watching;
  const button = $("live-toggle");
  button.textContent = watching ? "Stop watching" : "Watch live";
  button.setAttribute("aria-pressed", String(watching));
  const img = $<HTMLImageElement>("live-stream");
  if (watching) {
    void open();
  } else {
    img.removeAttribute("src");
    img.hidden = true;
    $("live-note").textContent = "";
  }
  void showOverlay();
}

/** Wire the live view's button; a stream that ends is asked for again while watching. */
export function wireLive(): void {
  $("live-toggle").addEventListener("click", toggle);
  $<HTMLImageElement>("live-stream").addEventListener("error", () => {
    if (watching) window.setTimeout(() => void (watching && open()), 3000);
  });
}
