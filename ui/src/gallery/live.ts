// The studio's live view on the gallery page, when the studio shares it: "Watch live"
// asks the relay for a one-use address of the stream (`GET /v1/shares/<id>/live` with the
// guest's token and `Accept: application/json`), which a plain <img> then shows as it comes
// (MJPEG). No token goes into an address. The stream ends when live view stops or after
// an hour; the page asks again while the guest watches (one retry pending at most). The
// studio's layout overlay, when it shares one (a PNG blob of the share), lies over the
// picture.

import { $ } from "./dom.js";
import { explain, share, token } from "./session.js";

let watching = false;
/** Each watch's own number: what an earlier one still had under way is dropped. */
let generation = 0;
let retry: number | undefined;
let overlayAddress: string | undefined;
let overlayShown: { address: string; url: string } | undefined;

function again(ms: number, mine: number): void {
  window.clearTimeout(retry);
  retry = window.setTimeout(() => {
    if (watching && mine === generation) void open(mine);
  }, ms);
}

async function open(mine: number): Promise<void> {
  const img = $<HTMLImageElement>("live-stream");
  const status = $("live-note");
  const response = await fetch(`/v1/shares/${encodeURIComponent(share)}/live`, {
    headers: { authorization: `Bearer ${token()}`, accept: "application/json" },
  }).catch(() => undefined);
  if (!watching || mine !== generation) return;
  if (!response || !response.ok) {
    const body = response ? ((await response.json().catch(() => ({}))) as { code?: string; message?: string }) : {};
    status.textContent = explain(body.code, body.message ?? "Live view cannot be reached right now.");
    again(5000, mine);
    return;
  }
  const { url } = (await response.json()) as { url: string };
  if (!watching || mine !== generation) return;
  status.textContent = "Live from the studio's camera: it shows as the photographer frames the next shot.";
  img.hidden = false;
  img.src = url;
}

/** The overlay's picture (fetched with the guest's token) over the stream. */
async function showOverlay(): Promise<void> {
  const img = $<HTMLImageElement>("live-overlay");
  const address = overlayAddress;
  if (!address) {
    img.hidden = true;
    return;
  }
  if (overlayShown?.address !== address) {
    const response = await fetch(address, { headers: { authorization: `Bearer ${token()}` } }).catch(() => undefined);
    if (!response?.ok || overlayAddress !== address) return;
    const url = URL.createObjectURL(await response.blob());
    if (overlayShown) URL.revokeObjectURL(overlayShown.url);
    overlayShown = { address, url };
    img.src = url;
  }
  img.hidden = !watching;
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
  generation += 1;
  window.clearTimeout(retry);
  $("live-toggle").textContent = watching ? "Stop watching" : "Watch live";
  const img = $<HTMLImageElement>("live-stream");
  if (watching) {
    void open(generation);
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
    if (watching) again(3000, generation);
  });
}
