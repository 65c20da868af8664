// The studio camera's live view on the dashboard: "Watch live view" asks the relay for a
// one-use address of the studio's stream (`GET /v1/live/<studio>:live`, the dashboard's
// token in the header, `Accept: application/json`) and shows it in a plain <img> (MJPEG).
// Watching makes the engine run live view; closing stops it after the camera's idle time.
let watching = false;
function $(id) {
    return document.getElementById(id);
}
async function open(studio, token) {
    const note = $("live-note");
    const response = await fetch(`/v1/live/${encodeURIComponent(`${studio}:live`)}`, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    }).catch(() => undefined);
    if (!watching)
        return;
    if (!response || !response.ok) {
        const body = response ? (await response.json().catch(() => ({}))) : {};
        note.textContent = body.message ?? "The relay cannot be reached; trying again.";
        window.setTimeout(() => void (watching && open(studio, token)), 5000);
        return;
    }
    const { url } = (await response.json());
    note.textContent = "";
    const img = $("live-stream");
    img.hidden = false;
    img.src = url;
}
/** Wire the live view's button for `studio`'s stream. */
export function wireLive(studio, token) {
    const button = $("live-toggle");
    const img = $("live-stream");
    button.addEventListener("click", () => {
        watching = !watching;
        button.textContent = watching ? "Stop watching" : "Watch live view";
        button.setAttribute("aria-pressed", String(watching));
        if (watching) {
            void open(studio, token);
        }
        else {
            img.removeAttribute("src");
            img.hidden = true;
        }
    });
    // The stream ends when live view stops or after an hour: ask again while watching.
    img.addEventListener("error", () => {
        if (watching)
            window.setTimeout(() => void (watching && open(studio, token)), 3000);
    });
}
/** What the camera says about live view (on, or why it stopped), under the picture. */
export function liveState(text) {
    if (watching)
        $("live-note").textContent = text;
}
