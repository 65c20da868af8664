// The studio camera's live view on the dashboard: "Watch live view" asks the relay for a
// one-use address of the studio's stream (`GET /v1/live/<studio>:live`, the dashboard's
// token in the header, `Accept: application/json`) and shows it in a plain <img> (MJPEG).
// Watching makes the engine run live view; closing stops it after the camera's idle time.
// A stream that ends is asked for again while watching (one retry pending at most).

let watching = false;
/** Each watch's own number: what an earlier one still had under way is dropped. */
let generation = 0;
let retry: number | undefined;

function $(id: string): HTMLElement {
  return document.getElementById(id) as HTMLElement;
}

function again(ms: number, mine: number, studio: string, token: string): void {
  window.clearTimeout(retry);
  retry = window.setTimeout(() => {
    if (watching && mine === generation) void open(mine, studio, token);
  }, ms);
}

async function open(mine: number, studio: string, token: string): Promise<void> {
  const note = $("live-note");
  const response = await fetch(`/v1/live/${encodeURIComponent(`${studio}:live`)}`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  }).catch(() => undefined);
  if (!watching || mine !== generation) return;
  if (!response || !response.ok) {
    const body = response ? ((await response.json().catch(() => ({}))) as { message?: string }) : {};
    note.textContent = body.message ?? "The relay cannot be reached; trying again.";
    again(5000, mine, studio, token);
    return;
  }
  const { url } = (await response.json()) as { url: string };
  if (!watching || mine !== generation) return;
  note.textContent = "";
  const img = $("live-stream") as HTMLImageElement;
  img.hidden = false;
  img.src = url;
}

/** Wire the live view's button for `studio`'s stream. */
export function wireLive(studio: string, token: string): void {
  const button = $("live-toggle");
  const img = $("live-stream") as HTMLImageElement;
  button.addEventListener("click", () => {
    watching = !watching;
    generation += 1;
    window.clearTimeout(retry);
    button.textContent = watching ? "Stop watching" : "Watch live view";
    if (watching) {
      void open(generation, studio, token);
    } else {
      img.removeAttribute("src");
      img.hidden = true;
      $("live-note").textContent = "";
    }
  });
  img.addEventListener("error", () => {
    if (watching) again(3000, generation, studio, token);
  });
}

/** What the camera says about live view (on, or why it stopped), under the picture. */
export function liveState(text: string): void {
  if (watching) $("live-note").textContent = text;
}
