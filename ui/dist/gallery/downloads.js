// Downloads on the gallery page, when the studio allows them: the open frame at web size
// (`GET /v1/shares/<id>/download/<frame>`), its original when the studio allows those
// (`GET /v1/shares/<id>/original/<frame>`: the file, or the address of the studio's cloud
// copy, which the page then opens), and "Download my picks" as one ZIP
// (`GET /v1/shares/<id>/download.zip?frames=…`). Both are fetched with the guest's token
// (a link cannot carry it without putting it in the address) and saved under the frame's
// own name; the relay counts each one for the studio.
import { $ } from "./dom.js";
import { explain, share, token } from "./session.js";
/** Save `blob` as `name` through a temporary link. */
function save(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.rel = "noopener";
    document.body.append(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60000);
}
async function fetchAndSave(path, name, error) {
    error.textContent = "";
    const response = await fetch(path, { headers: { authorization: `Bearer ${token()}` } }).catch(() => undefined);
    if (!response) {
        error.textContent = "The gallery cannot be reached: try again in a moment.";
        return;
    }
    if (!response.ok) {
        const body = (await response.json().catch(() => ({})));
        error.textContent = explain(body.code, body.message ?? `Not downloaded (HTTP ${response.status}).`);
        return;
    }
    save(await response.blob(), name);
}
/** Show the download buttons the share's `downloads` setting allows. */
export function configureDownloads(what = "off") {
    $("download").hidden = what === "off";
    $("download-picks").hidden = what === "off";
    $("download-original").hidden = what !== "originals";
}
/** The file name in a `Content-Disposition` header (its UTF-8 form first). */
function dispositionName(header) {
    if (!header)
        return undefined;
    const encoded = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (encoded?.[1]) {
        try {
            return decodeURIComponent(encoded[1]);
        }
        catch {
            // fall through to the plain name
        }
    }
    return /filename="([^"]*)"/i.exec(header)?.[1];
}
/**
 * The original of `frame`: the studio's computer sends it on request, which can take a
 * while. The relay answers with an address to open (the cloud copy's, or a one-use
 * ticket's on the relay), so the browser saves the file as it comes.
 */
export async function downloadOriginal(frame, name) {
    const error = $("answer-error");
    error.textContent = "Asking the studio for the original…";
    const path = `/v1/shares/${encodeURIComponent(share)}/original/${frame}`;
    const response = await fetch(path, {
        headers: { authorization: `Bearer ${token()}`, accept: "application/json" },
    }).catch(() => undefined);
    if (!response) {
        error.textContent = "The gallery cannot be reached: try again in a moment.";
        return;
    }
    const json = (response.headers.get("content-type") ?? "").startsWith("application/json");
    const body = json ? (await response.json().catch(() => ({}))) : {};
    if (!response.ok) {
        error.textContent = explain(body.code, body.message ?? `Not downloaded (HTTP ${response.status}).`);
        return;
    }
    error.textContent = "";
    if (body.url) {
        const a = document.createElement("a");
        a.href = body.url;
        a.rel = "noopener";
        document.body.append(a);
        a.click();
        a.remove();
        return;
    }
    save(await response.blob(), dispositionName(response.headers.get("content-disposition")) ?? name);
}
/** The web-size picture of `frame` (named after `name`). */
export async function download(frame, name) {
    const stem = name.replace(/\.[^.]*$/, "") || `frame-${frame}`;
    const path = `/v1/shares/${encodeURIComponent(share)}/download/${frame}`;
    await fetchAndSave(path, `${stem}.jpg`, $("answer-error"));
}
/** `frames` (this guest's picks) as one ZIP. */
export async function downloadPicks(frames) {
    if (frames.length === 0) {
        $("selection-error").textContent = "Pick a frame first.";
        return;
    }
    const path = `/v1/shares/${encodeURIComponent(share)}/download.zip?frames=${frames.join(",")}`;
    await fetchAndSave(path, `${share}-picks.zip`, $("selection-error"));
}
