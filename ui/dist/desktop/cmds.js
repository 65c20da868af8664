// The one place the window talks to Rust: typed wrappers over Tauri's IPC (the app's
// commands, the engine's events, the folder picker). No bundler, so Tauri's own internals
// are called directly, as its `@tauri-apps/api` does.
function tauri() {
    const internals = window.__TAURI_INTERNALS__;
    if (!internals) {
        throw new Error("not inside the Shotline app");
    }
    return internals;
}
export const snapshot = () => tauri().invoke("snapshot");
export const setPaused = (paused) => tauri().invoke("set_paused", { paused });
export const thumbnail = (shotId) => tauri().invoke("thumbnail", { shotId });
/** Open a frame's preview (or the frame) in the system's viewer; the file opened. */
export const openFrame = (shotId) => tauri().invoke("open_frame", { shotId });
export const settings = () => tauri().invoke("settings");
export const namingExample = (template) => tauri().invoke("naming_example", { template });
export const capture = () => tauri().invoke("capture");
/** Set a camera's key setting; resolves to "name = value as the camera reads it back". */
export const cameraSet = (port, name, value) => tauri().invoke("camera_set", { port, name, value });
/** The next live view picture after number `after`: its number and JPEG, or null when none
 * came within 2 s. Asking counts the window as watching. */
export async function liveFrame(after) {
    const raw = await tauri().invoke("live_frame", { after });
    const buf = raw instanceof ArrayBuffer ? raw : new Uint8Array(raw).buffer;
    if (buf.byteLength <= 8)
        return null;
    const seq = Number(new DataView(buf).getBigUint64(0));
    return { seq, jpeg: new Blob([buf.slice(8)], { type: "image/jpeg" }) };
}
export const liveStop = () => tauri().invoke("live_stop");
/** Drive the focus (`near 1`…`far 3`, `auto`); resolves to the camera's answer. */
export const cameraFocus = (drive, port) => tauri().invoke("camera_focus", { drive, port: port ?? null });
export const overlay = () => tauri().invoke("overlay");
/** Set (a PNG's path) or clear (null) the session's layout overlay. */
export const setOverlay = (path, opacity) => tauri().invoke("set_overlay", { path, opacity });
/** Keep a new opacity for the session's overlay (its picture stays where it is). */
export const setOverlayOpacity = (opacity) => tauri().invoke("set_overlay_opacity", { opacity });
export const openLibrary = () => tauri().invoke("open_library");
export const openDashboard = () => tauri().invoke("open_dashboard");
export const transferReport = () => tauri().invoke("transfer_report");
export const sessions = () => tauri().invoke("sessions");
export const switchSession = (name) => tauri().invoke("switch_session", { name });
export const shareSession = () => tauri().invoke("share_session");
export const shares = () => tauri().invoke("shares");
export const revokeShare = (id) => tauri().invoke("revoke_share", { id });
export const shareSettings = (id, settings) => tauri().invoke("share_settings", { id, settings });
export const extendShare = (id, days) => tauri().invoke("extend_share", { id, days });
export const unlockSelection = (id, guest) => tauri().invoke("unlock_selection", { id, guest });
export const shotlist = () => tauri().invoke("shotlist");
/** The next frames are item `code`'s (empty: no item); rejects with why for an unknown code. */
export const shotNext = (code) => tauri().invoke("shot_next", { code });
export const loadShotlist = (path) => tauri().invoke("load_shotlist", { path });
/** The current session's own metadata (client, job, keywords) for its frames' sidecars. */
export const setSessionMeta = (pairs) => tauri().invoke("set_session_meta", { pairs });
/** Save Settings; resolves to the refused values (empty when saved). */
export async function saveSettings(value) {
    try {
        await tauri().invoke("save_settings", { settings: value });
        return [];
    }
    catch (e) {
        if (Array.isArray(e)) {
            return e;
        }
        return [{ key: "config", message: String(e) }];
    }
}
/** Call `handler` with every engine event. */
export async function onEngineEvent(handler) {
    const t = tauri();
    await t.invoke("plugin:event|listen", {
        event: "engine-event",
        target: { kind: "Any" },
        handler: t.transformCallback((message) => handler(message.payload)),
    });
}
/** The native file picker for a CSV (or a PNG); the file, or null when cancelled. */
export function pickFile(title, kind = "CSV") {
    return tauri().invoke("plugin:dialog|open", {
        options: { directory: false, multiple: false, title, filters: [{ name: kind, extensions: [kind.toLowerCase()] }] },
    });
}
/** The native folder picker; the folder, or null when cancelled. */
export function pickFolder(title) {
    return tauri().invoke("plugin:dialog|open", {
        options: { directory: true, multiple: false, title },
    });
}
