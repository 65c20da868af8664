// The relay's live dashboard: cameras, frames arriving, each backup drive's copies in
// flight (a progress bar each) and free space, uploads in flight, alerts (an unread count,
// toasts for critical ones and guests' comments, dismiss and mute per category, kept in
// this browser), session totals and queue, the guests' answers on open shares (`answers`),
// and how the page is connected (transport, round trip, reconnects, a Reconnect button; a
// tab hidden for a few minutes closes its link and resumes from its offsets when shown).
// Every panel is a region named by its heading. The link
// carries a subscriber token (`?token=`); the studio comes from `?studio=` or the token's
// channels.
import { liveState, wireLive } from "./live.js";
import { RelayConnection } from "./connection.js";
import { AnswersPanel, el } from "./answers.js";
import { alert, markRead, renderMuted, renderUnread } from "./alerts.js";
import { advance, ago, bytes, diskMeter, progressBar } from "./widgets.js";
/** Frames kept on the page (the oldest go first past this). */
const MAX_SHOTS = 20000;
/** Past this many frames, only the rows in view are drawn. */
const VIRTUAL_AFTER = 300;
/** One row's height in the windowed list, in px (`dashboard.css` sets it). */
const ROW_PX = 30;
/** Rows drawn above and below the ones in view. */
const OVERSCAN = 15;
/** A tab hidden this long closes its link (`?hidden_close=SECONDS` changes it). */
const HIDDEN_CLOSE_S = 180;
const shots = new Map();
/** Shot ids, oldest first; the list shows them newest first. */
const order = [];
let drawPending = false;
const cameras = new Map();
const SETTING_LABELS = { iso: "ISO", shutterspeed: "shutter", aperture: "aperture", whitebalance: "WB", imageformat: "format" };
const targets = new Map();
let totals;
/** Verifications of shots not shown yet: channels arrive over separate streams (SSE), so a
 *  `backup_verified` may come before its `shot_stored`. */
const early = new Map();
/** Pictures of shots not shown yet. */
const pictures = new Map();
/** Shot-list items of frames not shown yet. */
const items = new Map();
/** The page's token, for the pictures' addresses (an `<img>` sends no header). */
let pageToken = "";
/** Uploads in flight, by shot. */
const uploads = new Map();
let lastUploaded;
let uploadsDone = 0;
let eventsSeen = 0;
let link;
/** The latest report, and when it was made (`undefined`: before this page opened). */
let system;
/** Copies and uploads with no progress for this long are taken off (a failed copy, an
 *  event lost to a trimmed history). */
const STALE_MS = 120000;
function $(id) {
    const element = document.getElementById(id);
    if (!element)
        throw new Error(`#${id} missing from the page`);
    return element;
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
function apply(event, live, ts) {
    switch (event.type) {
        case "camera_status":
            cameras.set(event.payload.port, event.payload);
            renderCameras();
            break;
        case "shot_captured": {
            // Its shot-list item, for when the shot shows (or now, if it already does).
            const p = event.payload;
            if (!p.item)
                break;
            const s = shots.get(p.shot_id);
            if (s) {
                s.item = p.item;
                renderShot(p.shot_id);
            }
            else {
                items.set(p.shot_id, p.item);
                while (items.size > MAX_SHOTS)
                    items.delete(items.keys().next().value);
            }
            break;
        }
        case "frame_preview": {
            const p = event.payload;
            const s = shots.get(p.shot_id);
            if (s) {
                s.picture = p;
                renderShot(p.shot_id);
            }
            else {
                // From the history, or before its shot_stored: kept for when the shot shows.
                pictures.set(p.shot_id, p);
                while (pictures.size > MAX_SHOTS)
                    pictures.delete(pictures.keys().next().value);
            }
            break;
        }
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
                picture: pictures.get(p.shot_id),
                item: items.get(p.shot_id),
                dirty: true,
            });
            pictures.delete(p.shot_id);
            items.delete(p.shot_id);
            order.push(p.shot_id);
            early.delete(p.shot_id);
            while (order.length > MAX_SHOTS) {
                const oldest = order.shift();
                if (oldest !== undefined)
                    shots.delete(oldest);
            }
            renderShot(p.shot_id);
            break;
        }
        case "backup_progress": {
            // From a snapshot it may be long finished: bars come from live progress only.
            if (!live)
                break;
            const p = event.payload;
            const view = target(p.target);
            view.copies.set(p.shot_id, advance(view.copies.get(p.shot_id), p.shot_id, p.bytes_done, p.bytes_total));
            renderTargets();
            break;
        }
        case "backup_verified": {
            const p = event.payload;
            const view = target(p.target);
            if (live)
                view.verified += 1;
            if (view.copies.delete(p.shot_id) || live)
                view.lastVerified = p.shot_id;
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
        case "target_status": {
            const view = target(event.payload.target);
            view.status = event.payload;
            // An unplugged or full drive is copying nothing: its bars go.
            if (event.payload.state !== "online")
                view.copies.clear();
            renderTargets();
            break;
        }
        case "upload_progress": {
            const p = event.payload;
            const s = shot(p.shot_id);
            if (s && !s.upload?.complete) {
                s.upload = { done: p.bytes_done, total: p.bytes_total, complete: false };
                renderShot(p.shot_id);
            }
            if (live && p.bytes_done < p.bytes_total) {
                uploads.set(p.shot_id, advance(uploads.get(p.shot_id), p.shot_id, p.bytes_done, p.bytes_total));
                renderUploads();
            }
            break;
        }
        case "upload_complete": {
            const p = event.payload;
            if (live) {
                uploadsDone += 1;
                lastUploaded = p.shot_id;
            }
            uploads.delete(p.shot_id);
            renderUploads();
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
        case "system_status":
            system = { status: event.payload, at: live ? (ts ?? Date.now()) : undefined };
            renderSystem();
            break;
    }
}
function target(name) {
    let view = targets.get(name);
    if (!view) {
        view = { verified: 0, copies: new Map() };
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
        // The key settings, as the camera reads them (set from the window or `shotline camera set`).
        const settings = (camera.settings ?? []).map((s) => `${SETTING_LABELS[s.name] ?? s.label} ${s.value}`);
        if (settings.length > 0)
            item.append(el("div", "camera-settings muted", settings.join(" · ")));
        if (camera.message)
            item.append(el("div", "message", camera.message));
        if (camera.live)
            liveState(camera.live.on ? `Live from ${camera.model}` : camera.live.message ?? "Live view is off.");
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
        for (const copy of view.copies.values()) {
            item.append(progressBar(`Copying shot ${copy.shot} to ${name}`, copy.done, copy.total, copy.rate));
        }
        if (view.copies.size === 0 && view.lastVerified !== undefined) {
            const done = el("div", "facts done");
            done.dataset.verifiedShot = String(view.lastVerified);
            done.textContent = `✓ shot ${view.lastVerified} verified`;
            item.append(done);
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
    // The session's queue: backup copies verified of all there are to make so far.
    const queue = $("queue");
    if (!t) {
        queue.replaceChildren(el("div", "facts", "Waiting for the engine's first totals."));
        return;
    }
    const copies = (n) => (n === 1 ? "1 copy" : `${n.toLocaleString("en-US")} copies`);
    const done = t.backups_verified + t.backups_failed;
    queue.replaceChildren(progressBar("Session queue", done, done + t.backups_pending, undefined, copies));
    if (t.backups_failed > 0) {
        queue.append(el("div", "message", `${copies(t.backups_failed)} failed: see the alerts.`));
    }
    else if (t.backups_pending === 0) {
        queue.append(el("div", "facts", "Nothing waiting: every copy so far is verified."));
    }
}
function renderUploads() {
    const box = $("uploads");
    box.replaceChildren();
    for (const upload of uploads.values()) {
        box.append(progressBar(`Uploading shot ${upload.shot}`, upload.done, upload.total, upload.rate));
    }
    const summary = el("div", "facts");
    summary.append(el("span", "uploaded-count", String(uploadsDone)), " uploaded this session");
    if (uploads.size === 0 && lastUploaded !== undefined)
        summary.append(` · ✓ shot ${lastUploaded} uploaded`);
    box.append(summary);
}
function renderSystem() {
    if (!system)
        return;
    const s = system.status;
    const lib = s.library;
    const library = $("library");
    library.replaceChildren();
    library.dataset.state = lib.state;
    if (lib.state === "unknown") {
        library.append(el("p", "message", `The library's disk cannot be read (${lib.path}).`));
    }
    else {
        library.append(diskMeter(lib.path, lib.free_bytes, lib.total_bytes, lib.state !== "ok"));
        const room = el("p", "room");
        room.textContent =
            lib.frames_room === undefined || lib.frames_room === null
                ? "Room for frames: shown after the session's first frame."
                : `Room for about ${lib.frames_room.toLocaleString("en-US")} frames at this session's average of ${bytes(lib.average_frame_bytes ?? 0)}.`;
        library.append(room);
        const limits = `warning below ${bytes(lib.warn_below_bytes)}, critical below ${bytes(lib.critical_below_bytes)}`;
        if (lib.state === "low")
            library.append(el("p", "warning", `Getting full: ${limits}.`));
        else if (lib.state === "critical")
            library.append(el("p", "message", `Almost full: ${limits}. Free space now.`));
        else
            library.append(el("p", "facts", `Alerts: ${limits}.`));
    }
    const computer = $("computer");
    computer.replaceChildren();
    const facts = el("dl", "link");
    const memoryUsed = s.memory_total_bytes - s.memory_available_bytes;
    facts.append(el("dt", "", "CPU"), el("dd", "cpu", `${s.cpu_percent.toFixed(0)} %`), el("dt", "", "Memory"), el("dd", "memory", `${bytes(memoryUsed)} used of ${bytes(s.memory_total_bytes)}`));
    computer.append(facts);
    for (const disk of s.disks) {
        const label = disk.name && disk.name !== disk.mount ? `${disk.mount} (${disk.name})` : disk.mount;
        computer.append(diskMeter(label + (disk.removable ? ", removable" : ""), disk.free_bytes, disk.total_bytes));
    }
    const when = el("p", "facts reported");
    when.textContent = reportedText();
    computer.append(when);
}
function reportedText() {
    const at = system?.at;
    return at === undefined ? "Reported before this page opened; every minute." : `Reported ${ago(at)}; every minute.`;
}
/** Take off bars whose copy or upload has not moved for [`STALE_MS`]. */
function pruneStale() {
    const now = performance.now();
    for (const view of targets.values()) {
        let pruned = false;
        for (const [shot, copy] of view.copies) {
            if (now - copy.lastAt > STALE_MS) {
                view.copies.delete(shot);
                pruned = true;
            }
        }
        if (pruned)
            renderTargets();
    }
    let prunedUploads = false;
    for (const [shot, upload] of uploads) {
        if (now - upload.lastAt > STALE_MS) {
            uploads.delete(shot);
            prunedUploads = true;
        }
    }
    if (prunedUploads)
        renderUploads();
}
const TRANSPORTS = {
    websocket: "WebSocket",
    sse: "Server-Sent Events",
    polling: "HTTP polling",
    none: "none",
};
function renderLink() {
    const s = link;
    if (!s)
        return;
    $("link-transport").textContent = s.suspended ? "closed while this tab is hidden" : TRANSPORTS[s.transport];
    $("link-rtt").textContent = s.rttMs === undefined ? "not measured" : `${Math.max(1, Math.round(s.rttMs))} ms`;
    $("link-reconnects").textContent = String(s.reconnects);
    $("link-last").textContent = s.lastEventAt === undefined ? "none yet" : ago(s.lastEventAt);
    const next = $("link-next");
    if (s.nextTryAt !== undefined && s.transport === "none" && !s.suspended) {
        next.hidden = false;
        next.dataset.at = String(s.nextTryAt);
        const seconds = Math.max(0, Math.ceil((s.nextTryAt - Date.now()) / 1000));
        next.textContent = `Next try in ${seconds} s; Reconnect tries now.`;
    }
    else {
        next.hidden = true;
        delete next.dataset.at;
    }
    const reported = document.querySelector("#computer .reported");
    if (reported && system)
        reported.textContent = reportedText();
    pruneStale();
}
/** A frame changed: its row is drawn again with the next animation frame. */
function renderShot(id) {
    const s = shots.get(id);
    if (!s)
        return;
    s.dirty = true;
    scheduleDraw();
}
/** Draw the list once per animation frame however many events came in. */
function scheduleDraw() {
    if (drawPending)
        return;
    drawPending = true;
    window.requestAnimationFrame(() => {
        drawPending = false;
        drawShots();
    });
}
/** A picture's address with the page's token. */
function withToken(address) {
    const url = new URL(address, window.location.origin);
    url.searchParams.set("token", pageToken);
    return url.pathname + url.search;
}
/** The frame's thumbnail, which opens its preview; an empty box until it is made. */
function thumbnail(s) {
    if (!s.picture)
        return el("span", "thumb none");
    const name = s.path.split("/").pop() ?? s.path;
    const link = document.createElement("a");
    link.className = "thumb";
    link.href = withToken(s.picture.preview);
    link.target = "_blank";
    link.rel = "noopener";
    link.title = `Open the preview of ${name}`;
    const img = document.createElement("img");
    img.src = withToken(s.picture.thumbnail);
    img.alt = `Preview of ${name}`;
    img.loading = "lazy";
    img.decoding = "async";
    img.width = 40;
    img.height = 28;
    link.append(img);
    return link;
}
function buildRow(s) {
    const row = el("li", "shot");
    row.dataset.shotId = String(s.id);
    row.append(thumbnail(s), el("span", "path", s.path), el("span", "muted", bytes(s.size)));
    if (s.item) {
        const item = el("span", "badge item", `${s.item.code} · ${s.item.view}`);
        item.title = `${s.item.name}: frame ${s.item.n} of this item`;
        row.append(item);
    }
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
    return row;
}
/** The frames, newest first: every row up to [`VIRTUAL_AFTER`], past that only the rows
 *  in view (and a few around them) between two spacers, so that thousands of frames
 *  cost the page what a screenful does. */
function drawShots() {
    const list = $("shots");
    const n = order.length;
    $("no-shots").hidden = n > 0;
    $("frames-count").textContent = n === 1 ? "1 frame" : `${n.toLocaleString("en-US")} frames`;
    if (n <= VIRTUAL_AFTER) {
        list.classList.remove("virtual");
        const rows = [];
        for (let i = n - 1; i >= 0; i -= 1) {
            const s = shots.get(order[i] ?? -1);
            if (!s)
                continue;
            if (!s.row || s.dirty) {
                s.row = buildRow(s);
                s.dirty = false;
            }
            rows.push(s.row);
        }
        list.replaceChildren(...rows);
        return;
    }
    list.classList.add("virtual");
    const height = list.clientHeight || 15 * ROW_PX;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW_PX) - OVERSCAN);
    const last = Math.min(n, Math.ceil((list.scrollTop + height) / ROW_PX) + OVERSCAN);
    const before = el("li", "spacer");
    before.style.height = `${first * ROW_PX}px`;
    const after = el("li", "spacer");
    after.style.height = `${(n - last) * ROW_PX}px`;
    const rows = [];
    for (let i = first; i < last; i += 1) {
        const s = shots.get(order[n - 1 - i] ?? -1);
        if (!s)
            continue;
        // Rows out of view are not kept: only what is drawn costs memory.
        s.row = undefined;
        s.dirty = false;
        rows.push(buildRow(s));
    }
    list.replaceChildren(before, ...rows, after);
}
// ---- Start -------------------------------------------------------------------------------
function start() {
    const params = new URLSearchParams(window.location.search);
    const token = params.get("token") ?? "";
    pageToken = token;
    renderCameras();
    renderTargets();
    renderTotals();
    renderUploads();
    renderMuted();
    renderUnread();
    $("shots").addEventListener("scroll", scheduleDraw, { passive: true });
    $("notifications").addEventListener("click", () => {
        markRead();
        $("alerts-panel").scrollIntoView({ block: "start" });
        $("alerts-heading").focus();
    });
    if (!token) {
        renderMode("offline", "no token: open the link that Shotline prints, which ends in ?token=…");
        return;
    }
    const studio = studioOf(params, token);
    $("studio").textContent = studio;
    document.title = `${studio} · Shotline`;
    wireLive(studio, token);
    const channels = ["camera", "backup", "upload", "alerts", "status"].map((c) => `${studio}:${c}`);
    const connection = new RelayConnection(window.location.origin, token, channels, {
        snapshot: (_channel, events) => {
            for (const event of events)
                apply(event, false);
        },
        event: (frame) => {
            eventsSeen += 1;
            $("event-count").textContent = String(eventsSeen);
            apply(frame.event, true, frame.ts);
        },
        mode: renderMode,
        stats: (stats) => {
            link = stats;
            renderLink();
        },
        gap: (channel, why) => {
            $("gap").hidden = false;
            $("gap").textContent =
                why === "restarted"
                    ? "The relay restarted while this page was connected. Everything it holds now is shown; events it had not sent here before it stopped may be missing (the totals are its latest state)."
                    : `Some events on ${channel} were older than the relay keeps and are not shown; the totals are its latest state.`;
        },
    });
    connection.start();
    window.setInterval(renderLink, 1000);
    const answers = new AnswersPanel(window.location.origin, token, $("answers"));
    $("reconnect").addEventListener("click", () => {
        connection.reconnect();
        answers.reconnect();
    });
    // Back on the network: try at once rather than wait out the backoff.
    window.addEventListener("online", () => {
        if (document.visibilityState === "hidden")
            return;
        if (connection.stats().transport === "none")
            connection.reconnect();
        answers.reconnect();
    });
    // A tab hidden for a while lets its link go, and resumes from its offsets when shown.
    const hiddenClose = (Number(params.get("hidden_close")) || HIDDEN_CLOSE_S) * 1000;
    let hiddenTimer;
    const visibility = () => {
        window.clearTimeout(hiddenTimer);
        if (document.visibilityState === "hidden") {
            hiddenTimer = window.setTimeout(() => {
                if (document.visibilityState === "hidden") {
                    const why = "closed while this tab is hidden; it resumes when the tab is shown";
                    connection.suspend(why);
                    answers.suspend(why);
                }
            }, hiddenClose);
        }
        else {
            connection.resume();
            answers.resume();
        }
    };
    document.addEventListener("visibilitychange", visibility);
    // A tab opened in the background gets no event until it is shown.
    if (document.visibilityState === "hidden")
        visibility();
    answers.start();
}
start();
