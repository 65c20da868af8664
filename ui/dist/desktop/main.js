// The tray window: frames arriving with thumbnails and the state of each copy, cameras,
// drives, relay and uploads, session totals, Pause / Resume, and Settings with each
// refused value shown beside its field. Engine events trigger a fresh snapshot.
import * as cmds from "./cmds.js";
import { renderCameraControls } from "./camera.js";
const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, text = "") {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        node.setAttribute(k, v);
    }
    node.textContent = text;
    return node;
}
function bytes(n) {
    if (n === null || n === undefined)
        return "?";
    const units = ["B", "kB", "MB", "GB", "TB"];
    let v = n;
    let i = 0;
    while (v >= 1000 && i < units.length - 1) {
        v /= 1000;
        i += 1;
    }
    return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
/** Each frame's thumbnail as a `data:` URL, when it was asked for, and how often. */
const thumbs = new Map();
const THUMB_RETRY_MS = 4000;
let current = null;
function renderFrames(frames) {
    const list = $("frames");
    $("no-frames").hidden = frames.length > 0;
    const items = frames.map((f) => {
        const li = el("li", { class: "frame", "data-id": String(f.id), "data-name": f.name });
        const img = el("img", { class: "thumb", alt: "" });
        const cached = thumbs.get(f.id);
        if (cached?.url)
            img.src = cached.url;
        // Asked again until the engine's own thumbnail is likely made (a few seconds after
        // the frame is stored); until then the frame's embedded preview, or nothing.
        const due = cached === undefined || (!cached.pending && performance.now() - cached.at > THUMB_RETRY_MS && cached.tries < 3);
        if (due && f.state === "stored") {
            const entry = { url: cached?.url ?? null, at: performance.now(), tries: (cached?.tries ?? 0) + 1, pending: true };
            thumbs.set(f.id, entry);
            void cmds.thumbnail(f.id).then((url) => {
                entry.pending = false;
                entry.at = performance.now();
                if (url) {
                    entry.url = url;
                    img.src = url;
                }
            });
        }
        const text = el("div");
        text.append(el("div", { class: "name" }, f.name), el("div", { class: "muted" }, `${f.path ?? ""} · ${bytes(f.size)}`));
        if (f.feedback)
            text.append(el("div", { class: "feedback", "aria-label": `Guests: ${f.feedback}` }, f.feedback));
        const badges = el("div", { class: "badges" });
        badges.append(el("span", { class: "badge library", "data-state": f.state }, f.state === "stored" ? "in library" : f.state));
        for (const [target, state] of f.targets) {
            badges.append(el("span", { class: "badge target", "data-target": target, "data-state": state }, `${target}: ${state}`));
        }
        if (f.upload) {
            badges.append(el("span", { class: "badge upload", "data-state": f.upload }, f.upload === "done" ? "uploaded" : `upload: ${f.upload}`));
        }
        // A click on the thumbnail opens the frame's preview in the system's viewer.
        const open = el("button", { class: "thumb-open", type: "button", title: `Open the preview of ${f.name}`, "aria-label": `Open the preview of ${f.name}` });
        open.append(img);
        open.addEventListener("click", () => void cmds.openFrame(f.id).catch((e) => { open.title = `Cannot open it: ${String(e)}`; }));
        li.append(open, text, badges);
        return li;
    });
    list.replaceChildren(...items);
}
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
function progress(event) {
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
function renderProgress() {
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
/** Fire the shutter; what the camera said goes beside the button. */
async function capture() {
    const status = $("capture-status");
    status.className = "capture-status";
    status.textContent = "Capturing…";
    try {
        const said = await cmds.capture();
        status.textContent = said || "Captured";
    }
    catch (e) {
        status.className = "capture-status refused";
        status.textContent = `Not captured: ${String(e)}`;
    }
}
function render(s) {
    current = s;
    $("state-dot").dataset.state = s.state;
    $("summary").textContent = s.summary;
    $("session").textContent = s.session;
    $("relay").textContent = s.relay;
    const problem = $("problem");
    problem.hidden = !s.problem;
    problem.textContent = s.problem ?? "";
    $("pause").textContent = s.paused ? "Resume" : "Pause";
    $("open-dashboard").hidden = !s.dashboard;
    $("capture").hidden = !s.cameras.some((c) => c.state === "connected");
    const t = s.totals;
    const totals = $("totals");
    totals.className = "card totals";
    totals.replaceChildren(el("span", { class: "big", id: "stored-count" }, String(t.stored)), el("span", {}, "frames stored"), el("span", { class: "muted" }, `${t.duplicates} duplicates · ${t.failed} failed · ${t.queue} copies to make`));
    const space = s.library_space;
    if (space && space.state !== "unknown") {
        const room = space.frames_room === undefined || space.frames_room === null ? "" : ` · room for about ${space.frames_room.toLocaleString("en-US")} frames`;
        const warning = space.state === "ok" ? "" : space.state === "low" ? " · getting full" : " · almost full";
        totals.append(el("span", { id: "library-space", class: `library-space state-${space.state}`, "data-state": space.state }, `Library ${bytes(space.free_bytes)} free${room}${warning}`));
    }
    // The lines are drawn afresh; the settings' controls are kept (see camera.ts).
    const cameras = $("camera-lines");
    cameras.replaceChildren(el("strong", {}, "Cameras"));
    if (s.cameras.length === 0)
        cameras.append(el("div", { class: "muted" }, "none connected"));
    for (const c of s.cameras) {
        const extra = [c.battery !== undefined ? `battery ${c.battery}%` : "", c.card_free_bytes !== undefined ? `card ${bytes(c.card_free_bytes)} free` : ""].filter(Boolean).join(" · ");
        cameras.append(el("div", { "data-port": c.port }, `${c.model}: ${c.state}${extra ? " · " + extra : ""}`));
        if (c.message)
            cameras.append(el("div", { class: "muted" }, c.message));
    }
    renderCameraControls($("camera-controls"), s.cameras, () => void refresh());
    const targets = $("targets");
    targets.className = "card";
    targets.replaceChildren(el("strong", {}, "Backup drives"));
    for (const d of s.targets) {
        targets.append(el("div", { class: "target", "data-target": d.name, "data-state": d.state }, `${d.name}: ${d.state} · ${bytes(d.free_bytes)} free · ${d.verified} verified, ${d.pending} waiting${d.failed ? `, ${d.failed} failed` : ""}`));
    }
    const uploads = $("uploads");
    uploads.className = "card";
    uploads.hidden = !s.uploads;
    if (s.uploads) {
        uploads.replaceChildren(el("strong", {}, "Cloud"), el("div", {}, `${s.uploads.done} uploaded · ${s.uploads.pending} to go · ${s.uploads.failed} failed`));
    }
    renderFrames(s.frames);
    renderProgress();
}
let refreshing = false;
let again = false;
async function refresh() {
    if (refreshing) {
        again = true;
        return;
    }
    refreshing = true;
    try {
        render(await cmds.snapshot());
    }
    finally {
        refreshing = false;
        if (again) {
            again = false;
            setTimeout(() => void refresh(), 150);
        }
    }
}
// ---- Settings ----
const MUTABLE = [
    ["target_offline", "Backup drive missing"],
    ["target_full", "Backup drive full"],
    ["card_full", "Camera card full"],
    ["camera_lost", "Camera disconnected"],
    ["relay_unreachable", "Relay unreachable"],
    ["upload_finished", "Uploads finished"],
];
let loaded = null;
function input(name) {
    return $("settings").elements.namedItem(name);
}
function folderRow(container, index, value) {
    const key = `hot_folder[${index}].path`;
    const row = el("div", { class: "pick hot-folder" });
    const field = el("input", { "data-key": key, value });
    field.value = value;
    const pick = el("button", { type: "button" }, "Choose…");
    pick.addEventListener("click", () => void cmds.pickFolder("Hot folder").then((p) => { if (p)
        field.value = p; }));
    const remove = el("button", { type: "button" }, "Remove");
    remove.addEventListener("click", () => row.remove());
    row.append(field, pick, remove);
    container.append(row, el("p", { class: "error", "data-error-for": key }));
}
function backupRow(container, index, b) {
    const row = el("div", { class: "row backup" });
    const name = el("input", { "data-key": `backup[${index}].name`, placeholder: "name" });
    name.value = b.name;
    const path = el("input", { "data-key": `backup[${index}].path`, placeholder: "folder" });
    path.value = b.path;
    const pick = el("button", { type: "button" }, "Choose…");
    pick.addEventListener("click", () => void cmds.pickFolder("Backup folder").then((p) => { if (p)
        path.value = p; }));
    const mountLabel = el("label", { class: "check" }, " drive must be mounted");
    const mount = el("input", { type: "checkbox" });
    mount.checked = b.require_mount;
    mountLabel.prepend(mount);
    const remove = el("button", { type: "button" }, "Remove");
    remove.addEventListener("click", () => row.remove());
    row.append(name, path, pick, mountLabel, remove);
    container.append(row, el("p", { class: "error", "data-error-for": `backup[${index}].name` }), el("p", { class: "error", "data-error-for": `backup[${index}].path` }));
}
async function showExample() {
    const out = $("naming-example");
    try {
        out.textContent = await cmds.namingExample(input("naming").value);
        setErrors([], ["library.naming"]);
    }
    catch (e) {
        out.textContent = "";
        setErrors([{ key: "library.naming", message: String(e) }], ["library.naming"]);
    }
}
async function openSettings() {
    const s = await cmds.settings();
    loaded = s;
    const hot = $("hot-folders");
    hot.replaceChildren();
    s.hot_folders.forEach((p, i) => folderRow(hot, i, p));
    input("library").value = s.library;
    input("naming").value = s.naming;
    const backups = $("backups");
    backups.replaceChildren();
    s.backups.forEach((b, i) => backupRow(backups, i, b));
    input("camera_enabled").checked = s.camera_enabled;
    input("relay_url").value = s.relay_url;
    input("relay_listen").value = s.relay_listen;
    input("relay_token").value = "";
    $("relay-token-stored").textContent = s.relay_token_stored ? "(stored in the keychain)" : "";
    input("upload_on").checked = s.upload !== null;
    input("upload_endpoint").value = s.upload?.endpoint ?? "";
    input("upload_region").value = s.upload?.region ?? "auto";
    input("upload_bucket").value = s.upload?.bucket ?? "";
    input("upload_key").value = s.upload?.key ?? "{studio}/{session}/{name}";
    input("upload_access_key").value = "";
    input("upload_secret").value = "";
    $("upload-keys-stored").textContent = s.upload_keys_stored ? "(stored in the keychain)" : "";
    input("autostart").checked = s.prefs.autostart;
    input("relay_alert_minutes").value = String(s.prefs.relay_alert_minutes);
    const mutes = $("mutes");
    mutes.replaceChildren();
    for (const [category, label] of MUTABLE) {
        const l = el("label", { class: "check" }, ` ${label}`);
        const box = el("input", { type: "checkbox", "data-mute": category });
        box.checked = s.prefs.muted.includes(category);
        l.prepend(box);
        mutes.append(l);
    }
    setErrors([]);
    $("saved").hidden = true;
    $("settings").hidden = false;
    $("overview").hidden = true;
    await showExample();
}
function formValue() {
    const base = loaded;
    const hot = Array.from(document.querySelectorAll(".hot-folder input")).map((i) => i.value);
    const backups = Array.from(document.querySelectorAll(".row.backup")).map((row) => {
        const [name, path] = Array.from(row.querySelectorAll("input:not([type=checkbox])"));
        const mount = row.querySelector("input[type=checkbox]");
        return { name: name.value, path: path.value, require_mount: mount?.checked ?? false };
    });
    const muted = Array.from(document.querySelectorAll("[data-mute]")).filter((b) => b.checked).map((b) => b.dataset.mute);
    return {
        ...base,
        hot_folders: hot,
        library: input("library").value,
        naming: input("naming").value,
        backups,
        camera_enabled: input("camera_enabled").checked,
        relay_url: input("relay_url").value,
        relay_listen: input("relay_listen").value,
        relay_token: input("relay_token").value,
        upload: input("upload_on").checked
            ? { endpoint: input("upload_endpoint").value, region: input("upload_region").value, bucket: input("upload_bucket").value, key: input("upload_key").value }
            : null,
        upload_access_key: input("upload_access_key").value,
        upload_secret: input("upload_secret").value,
        prefs: { autostart: input("autostart").checked, muted, relay_alert_minutes: Number(input("relay_alert_minutes").value) || 0 },
    };
}
/** Show `errors` beside their fields; `only`: clear just these keys first. */
function setErrors(errors, only) {
    for (const slot of document.querySelectorAll("[data-error-for]")) {
        if (!only || only.includes(slot.dataset.errorFor))
            slot.textContent = "";
    }
    for (const field of document.querySelectorAll("[data-key]")) {
        if (!only || only.includes(field.dataset.key))
            field.removeAttribute("aria-invalid");
    }
    const other = [];
    for (const e of errors) {
        const slot = document.querySelector(`[data-error-for="${CSS.escape(e.key)}"]`);
        const field = document.querySelector(`[data-key="${CSS.escape(e.key)}"]`);
        if (slot) {
            slot.textContent = e.message;
            field?.setAttribute("aria-invalid", "true");
        }
        else {
            other.push(`${e.key}: ${e.message}`);
        }
    }
    if (!only)
        $("other-errors").textContent = other.join("\n");
}
async function save(ev) {
    ev.preventDefault();
    const errors = await cmds.saveSettings(formValue());
    setErrors(errors);
    if (errors.length === 0) {
        $("saved").hidden = false;
        await refresh();
    }
}
function closeSettings() {
    $("settings").hidden = true;
    $("overview").hidden = false;
}
function wire() {
    $("pause").addEventListener("click", () => void cmds.setPaused(!(current?.paused ?? false)).then(refresh));
    $("capture").addEventListener("click", () => void capture());
    // The tethering apps' shortcuts: F12, and Ctrl+K (Cmd+K on a Mac); not while typing.
    document.addEventListener("keydown", (e) => {
        const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
        const shortcut = e.key === "F12" || ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k");
        if (!shortcut || typing || $("capture").hidden)
            return;
        e.preventDefault();
        void capture();
    });
    $("open-library").addEventListener("click", () => void cmds.openLibrary());
    $("open-dashboard").addEventListener("click", () => void cmds.openDashboard());
    $("transfer-report").addEventListener("click", () => void cmds.transferReport().catch((e) => alert(String(e))));
    $("toggle-settings").addEventListener("click", () => {
        if ($("settings").hidden)
            void openSettings();
        else
            closeSettings();
    });
    $("cancel").addEventListener("click", closeSettings);
    $("settings").addEventListener("submit", (ev) => void save(ev));
    $("add-hot-folder").addEventListener("click", () => folderRow($("hot-folders"), document.querySelectorAll(".hot-folder").length, ""));
    $("add-backup").addEventListener("click", () => backupRow($("backups"), document.querySelectorAll(".row.backup").length, { name: "", path: "", require_mount: false }));
    $("settings").querySelector("[data-pick=library]")?.addEventListener("click", () => void cmds.pickFolder("Library folder").then((p) => { if (p)
        input("library").value = p; }));
    input("naming").addEventListener("input", () => void showExample());
}
// ---- Sessions and shares -------------------------------------------------------------
function renderSessions(view) {
    $("session-name").textContent = view.current;
    const select = $("earlier-sessions");
    const options = [el("option", { value: "" }, view.earlier.length ? "Go back to…" : "No earlier sessions")];
    for (const name of view.earlier)
        options.push(el("option", { value: name }, name));
    select.replaceChildren(...options);
    select.disabled = view.earlier.length === 0;
}
async function loadSessions() {
    renderSessions(await cmds.sessions());
}
function openNewSession() {
    const dialog = $("new-session-dialog");
    $("new-session-error").textContent = "";
    $("new-session-name").value = "";
    if (!dialog.open)
        dialog.showModal();
    $("new-session-name").focus();
}
async function startSession(ev) {
    ev.preventDefault();
    const name = $("new-session-name").value;
    try {
        renderSessions(await cmds.switchSession(name));
        $("new-session-dialog").close();
        await refresh();
    }
    catch (e) {
        $("new-session-error").textContent = String(e);
    }
}
let shown = null;
function renderShare(share) {
    shown = share;
    $("share-error").textContent = "";
    const link = share?.link ?? "";
    $("share-link").value = link;
    const qr = $("share-qr");
    qr.hidden = !share?.qr;
    if (share?.qr)
        qr.src = share.qr;
    const note = $("share-note");
    note.hidden = !share?.note;
    note.textContent = share?.note ? `Note: ${share.note}` : "";
    $("copy-link").disabled = !link;
    $("revoke-share").disabled = !share;
    $("share-status").textContent = share
        ? `Guests see every frame of this session until ${new Date(share.expires_ms).toLocaleString()}.`
        : "Making the link…";
}
async function openShare() {
    const dialog = $("share-dialog");
    $("share-session-name").textContent = current?.session ?? "";
    renderShare(null);
    if (!dialog.open)
        dialog.showModal();
    try {
        renderShare(await cmds.shareSession());
    }
    catch (e) {
        $("share-status").textContent = "No link.";
        $("share-error").textContent = String(e);
    }
}
async function copyLink() {
    const field = $("share-link");
    try {
        await navigator.clipboard.writeText(field.value);
    }
    catch {
        field.select();
        document.execCommand("copy");
    }
    $("share-status").textContent = "Link copied.";
}
async function revokeShown() {
    if (!shown)
        return;
    try {
        await cmds.revokeShare(shown.id);
        renderShare(null);
        $("share-status").textContent = "Revoked: the link no longer opens, and open pages were closed.";
        $("revoke-share").disabled = true;
    }
    catch (e) {
        $("share-error").textContent = String(e);
    }
}
/** The tray opens the window on a dialog by naming it in the fragment. */
function routeHash() {
    const dialog = location.hash.replace(/^#/, "");
    if (dialog === "new-session")
        openNewSession();
    else if (dialog === "share")
        void openShare();
    if (dialog)
        history.replaceState(null, "", location.pathname);
}
function wireSessions() {
    $("new-session").addEventListener("click", openNewSession);
    $("cancel-session").addEventListener("click", () => $("new-session-dialog").close());
    $("new-session-form").addEventListener("submit", (ev) => void startSession(ev));
    $("earlier-sessions").addEventListener("change", () => {
        const select = $("earlier-sessions");
        if (!select.value)
            return;
        void cmds.switchSession(select.value).then(renderSessions).then(refresh).catch((e) => alert(String(e)));
    });
    $("share-session").addEventListener("click", () => void openShare());
    $("copy-link").addEventListener("click", () => void copyLink());
    $("revoke-share").addEventListener("click", () => void revokeShown());
    $("close-share").addEventListener("click", () => $("share-dialog").close());
    window.addEventListener("hashchange", routeHash);
}
async function start() {
    wire();
    wireSessions();
    routeHash();
    void loadSessions().catch(() => undefined);
    let pending = null;
    await cmds.onEngineEvent((event) => {
        if (progress(event))
            renderProgress();
        if (pending === null) {
            pending = setTimeout(() => {
                pending = null;
                void refresh();
            }, 200);
        }
    });
    await refresh();
    void loadSessions().catch(() => undefined);
    // While the engine is starting (or could not start) look again; once it runs, its
    // events say when something changed.
    setInterval(() => {
        if (!current || current.problem || current.library === "")
            void refresh();
    }, 3000);
}
void start();
