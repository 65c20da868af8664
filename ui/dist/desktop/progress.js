// The tray window's copies and uploads in flight: the engine's progress events folded into
// one bar each (percent, bytes, rate, time left), under the drive's or the cloud's card.
import { $, bytes, el } from "./dom.js";
/** Copies in flight by `target/shot`, uploads by shot. */
const copies = new Map();
const sending = new Map();
/** Bars that have not moved for this long are taken off (a failed copy). */
const STALE_MS = 120000;
function track(map, key, label, done, total) {
    const now = performance.now();
    const before = map.get(key);
    if (done >= total) {
        map.set(key, { label, done, total, firstAt: before?.firstAt ?? now, firstDone: before?.firstDone ?? 0, lastAt: now });
        return;
    }
    if (!before || done < before.done)
        map.set(key, { label, done, total, firstAt: now, firstDone: done, lastAt: now });
    else
        map.set(key, { ...before, done, total, lastAt: now });
}
/** Fold a progress event in; true when a bar changed. */
export function progress(event) {
    switch (event.type) {
        case "backup_progress": {
            const p = event.payload;
            track(copies, `${p.target}/${p.shot_id}`, `Copying shot ${p.shot_id} to ${p.target}`, p.bytes_done, p.bytes_total);
            return true;
        }
        case "backup_verified":
            return copies.delete(`${event.payload.target}/${event.payload.shot_id}`);
        case "upload_progress": {
            const p = event.payload;
            track(sending, p.shot_id, `Uploading shot ${p.shot_id}`, p.bytes_done, p.bytes_total);
            return true;
        }
        case "upload_complete":
            return sending.delete(event.payload.shot_id);
        case "target_status":
            if (event.payload.state !== "online") {
                for (const key of [...copies.keys()])
                    if (key.startsWith(`${event.payload.target}/`))
                        copies.delete(key);
            }
            return true;
        default:
            return false;
    }
}
/** A labelled progress bar: percent, bytes, rate and time left. */
function bar(f) {
    const percent = f.total > 0 ? Math.min(100, Math.floor((100 * f.done) / f.total)) : 100;
    const elapsed = performance.now() - f.firstAt;
    const rate = elapsed >= 1000 ? ((f.done - f.firstDone) * 1000) / elapsed : 0;
    const facts = [`${percent}%`, `${bytes(f.done)} of ${bytes(f.total)}`];
    if (rate > 0 && f.done < f.total)
        facts.push(`${bytes(rate)}/s`, `${Math.max(1, Math.round((f.total - f.done) / rate))} s left`);
    const meter = el("div", { class: "bar", role: "progressbar", "aria-label": f.label, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(percent) });
    const fill = el("div", { class: "fill" });
    fill.style.width = `${percent}%`;
    meter.append(fill);
    const box = el("div", { class: "progress" });
    box.append(el("div", {}, `${f.label}: ${facts.join(" · ")}`), meter);
    return box;
}
export function renderProgress() {
    const now = performance.now();
    for (const map of [copies, sending]) {
        for (const [key, f] of map)
            if (now - f.lastAt > STALE_MS)
                map.delete(key);
    }
    const targets = $("targets");
    targets.querySelectorAll(".progress").forEach((p) => p.remove());
    for (const f of copies.values())
        targets.append(bar(f));
    const uploads = $("uploads");
    uploads.querySelectorAll(".progress").forEach((p) => p.remove());
    for (const f of sending.values())
        uploads.append(bar(f));
    if (sending.size > 0)
        uploads.hidden = false;
}
