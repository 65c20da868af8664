// The relay's live dashboard: cameras, frames arriving, each backup drive's progress and
// free space, uploads, alerts, session totals, the guests' answers on open shares
// (`answers`), and how the page is connected. The link
// carries a subscriber token (`?token=`); the studio comes from `?studio=` or the token's
// channels.
import { RelayConnection } from "./connection.js";
import { AnswersPanel, el } from "./answers.js";
const MAX_SHOTS = 200;
const MAX_ALERTS = 50;
const shots = new Map();
const cameras = new Map();
const targets = new Map();
let totals;
/** Verifications of shots not shown yet: channels arrive over separate streams (SSE), so a
 *  `backup_verified` may come before its `shot_stored`. */
const early = new Map();
let uploadsDone = 0;
let eventsSeen = 0;
function $(id) {
    const element = document.getElementById(id);
    if (!element)
        throw new Error(`#${id} missing from the page`);
    return element;
}
export function bytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let value = n;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit += 1;
    }
    return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
/** The studio: `?studio=`, else the prefix of the token's first channel. */
function studioOf(params, token) {
    const named = params.get("studio");
    if (named)
        return named;
    try {
        const payload = token.split(".")[1] ?? "";
        const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
        const claims = JSON.parse(json);
        const first = claims.channels?.[0] ?? "";
        return first.split(":")[0]?.replace(/\*$/, "") || "studio";
    }
    catch {
        return "studio";
    }
}
// ---- State ------------------------------------------------------------------------------
function shot(id) {
    return shots.get(id);
}
function apply(event, live) {
    switch (event.type) {
        case "camera_status":
            cameras.set(event.payload.port, event.payload);
            renderCameras();
            break;
        case "shot_captured":
            break;
        case "shot_stored": {
            const p = event.payload;
            if (!live || shots.has(p.shot_id))
                break;
            shots.set(p.shot_id, {
                id: p.shot_id,
                path: p.path,
                size: p.size,
                duplicate: p.duplicate_of !== undefined && p.duplicate_of !== null,
                verified: early.get(p.shot_id) ?? new Set(),
            });
            early.delete(p.shot_id);
            while (shots.size > MAX_SHOTS) {
                const oldest = shots.keys().next().value;
                if (oldest === undefined)
                    break;
                shots.get(oldest)?.row?.remove();
                shots.delete(oldest);
            }
            renderShot(p.shot_id);
            break;
        }
        case "backup_progress": {
            const p = event.payload;
            const view = target(p.target);
            view.progress = { shot: p.shot_id, done: p.bytes_done, total: p.bytes_total };
            renderTargets();
            break;
        }
        case "backup_verified": {
            const p = event.payload;
            if (live)
                target(p.target).verified += 1;
            const known = shot(p.shot_id);
            if (known) {
                known.verified.add(p.target);
            }
            else {
                const waiting = early.get(p.shot_id) ?? new Set();
                waiting.add(p.target);
                early.set(p.shot_id, waiting);
                while (early.size > MAX_SHOTS) {
                    const oldest = early.keys().next().value;
                    if (oldest === undefined)
                        break;
                    early.delete(oldest);
                }
            }
            renderShot(p.shot_id);
            renderTargets();
            break;
        }
        case "target_status":
            target(event.payload.target).status = event.payload;
            renderTargets();
            break;
        case "upload_progress": {
            const p = event.payload;
            const s = shot(p.shot_id);
            if (s && !s.upload?.complete) {
                s.upload = { done: p.bytes_done, total: p.bytes_total, complete: false };
                renderShot(p.shot_id);
            }
            break;
        }
        case "upload_complete": {
            const p = event.payload;
            if (live)
                uploadsDone += 1;
            const s = shot(p.shot_id);
            if (s) {
                s.upload = { done: p.size, total: p.size, complete: true, url: p.url ?? undefined };
                renderShot(p.shot_id);
            }
            renderTotals();
            break;
        }
        case "queue_status":
            totals = event.payload;
            renderTotals();
            break;
        case "notification":
            if (live)
                alert(event.payload);
            break;
    }
}
function target(name) {
    let view = targets.get(name);
    if (!view) {
        view = { verified: 0 };
        targets.set(name, view);
    }
    return view;
}
// ---- Rendering ---------------------------------------------------------------------------
function renderMode(mode, detail) {
    const indicator = $("connection");
    indicator.dataset.mode = mode;
    const label = {
        connecting: "Connecting…",
        realtime: "Real-time",
        fallback: "Fallback",
        offline: "Offline",
    };
    indicator.textContent = label[mode];
    indicator.title = detail;
    $("connection-detail").textContent = detail;
}
function renderCameras() {
    const list = $("cameras");
    list.replaceChildren();
    if (cameras.size === 0) {
        list.append(el("p", "empty", "No camera reported yet."));
        return;
    }
    for (const camera of cameras.values()) {
        const item = el("div", `camera state-${camera.state}`);
        item.append(el("strong", "", camera.model), el("span", "muted", ` ${camera.port}`));
        const facts = [camera.state];
        if (camera.battery !== undefined && camera.battery !== null)
            facts.push(`battery ${camera.battery}%`);
        if (camera.card_free_bytes !== undefined && camera.card_free_bytes !== null) {
            facts.push(`card ${bytes(camera.card_free_bytes)} free`);
        }
        item.append(el("div", "facts", facts.join(" · ")));
        if (camera.message)
            item.append(el("div", "message", camera.message));
        list.append(item);
    }
}
function renderTargets() {
    const list = $("targets");
    list.replaceChildren();
    if (targets.size === 0) {
        list.append(el("p", "empty", "No backup target reported yet."));
        return;
    }
    for (const [name, view] of targets) {
        const state = view.status?.state ?? "online";
        const item = el("div", `target state-${state}`);
        item.dataset.target = name;
        item.append(el("strong", "", name), el("span", `badge ${state}`, state));
        const status = view.status;
        if (status?.free_bytes !== undefined && status.free_bytes !== null) {
            const total = status.total_bytes ?? 0;
            const meter = el("div", "meter");
            const used = el("div", "used");
            used.style.width = total > 0 ? `${(100 * (total - status.free_bytes)) / total}%` : "0";
            meter.append(used);
            item.append(meter, el("div", "facts", `${bytes(status.free_bytes)} free${total ? ` of ${bytes(total)}` : ""}`));
        }
        if (view.progress && view.progress.done < view.progress.total) {
            const p = view.progress;
            item.append(el("div", "facts", `copying shot ${p.shot}: ${Math.floor((100 * p.done) / Math.max(1, p.total))}%`));
        }
        const verified = el("div", "facts");
        verified.append(el("span", "verified-count", String(view.verified)), " verified this session");
        item.append(verified);
        if (status?.message)
            item.append(el("div", "message", status.message));
        list.append(item);
    }
}
function renderTotals() {
    const t = totals;
    const cells = [
        ["Shots", String(t?.shots ?? shots.size)],
        ["Ingesting", String(t?.ingesting ?? 0)],
        ["Backups pending", String(t?.backups_pending ?? 0)],
        ["Backups verified", String(t?.backups_verified ?? 0)],
        ["Backups failed", String(t?.backups_failed ?? 0)],
        ["Uploaded", String(uploadsDone)],
    ];
    const box = $("totals");
    box.replaceChildren(...cells.map(([label, value]) => {
        const cell = el("div", "total");
        cell.append(el("div", "value", value), el("div", "label", label));
        return cell;
    }));
}
function renderShot(id) {
    const s = shots.get(id);
    if (!s)
        return;
    const row = s.row ?? el("li", "shot");
    row.dataset.shotId = String(id);
    row.replaceChildren(el("span", "path", s.path), el("span", "muted", bytes(s.size)));
    if (s.duplicate)
        row.append(el("span", "badge duplicate", "duplicate"));
    for (const name of [...s.verified].sort()) {
        const badge = el("span", "badge verified", `✓ ${name}`);
        badge.dataset.verified = name;
        row.append(badge);
    }
    if (s.upload) {
        const text = s.upload.complete
            ? "uploaded"
            : `uploading ${Math.floor((100 * s.upload.done) / Math.max(1, s.upload.total))}%`;
        row.append(el("span", `badge ${s.upload.complete ? "uploaded" : "uploading"}`, text));
    }
    if (!s.row) {
        s.row = row;
        $("shots").prepend(row);
        $("no-shots").hidden = true;
    }
}
function alert(n) {
    const list = $("alerts");
    const item = el("li", `alert ${n.level}`);
    item.append(el("strong", "", n.title), el("span", "", ` ${n.message}`), el("span", "muted", ` ${new Date().toLocaleTimeString()}`));
    list.prepend(item);
    while (list.children.length > MAX_ALERTS)
        list.lastElementChild?.remove();
    $("no-alerts").hidden = true;
}
// ---- Start -------------------------------------------------------------------------------
function start() {
    const params = new URLSearchParams(window.location.search);
    const token = params.get("token") ?? "";
    renderCameras();
    renderTargets();
    renderTotals();
    if (!token) {
        renderMode("offline", "no token: open the link that Shotline prints, which ends in ?token=…");
        return;
    }
    const studio = studioOf(params, token);
    $("studio").textContent = studio;
    document.title = `${studio} · Shotline`;
    const channels = ["camera", "backup", "upload", "alerts", "status"].map((c) => `${studio}:${c}`);
    const connection = new RelayConnection(window.location.origin, token, channels, {
        snapshot: (_channel, events) => {
            for (const event of events)
                apply(event, false);
        },
        event: (frame) => {
            eventsSeen += 1;
            $("event-count").textContent = String(eventsSeen);
            apply(frame.event, true);
        },
        mode: renderMode,
        gap: (channel, why) => {
            $("gap").hidden = false;
            $("gap").textContent =
                why === "restarted"
                    ? "The relay restarted while this page was connected. Everything it holds now is shown; events it had not sent here before it stopped may be missing (the totals are its latest state)."
                    : `Some events on ${channel} were older than the relay keeps and are not shown; the totals are its latest state.`;
        },
    });
    connection.start();
    new AnswersPanel(window.location.origin, token, $("answers")).start();
}
start();
