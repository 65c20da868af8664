// The tray window's sessions and shares: the current session and the earlier ones to go
// back to, a new session by name, and the guests' link of a session (QR code, copy,
// extend, revoke) with its proofing (PIN, watermark, downloads, choose N), the guests'
// selections (each to unlock) and the share's activity. The tray opens the window on one of these dialogs by naming it in the fragment.
import * as cmds from "./cmds.js";
import { $, el } from "./dom.js";
let hooks = { refresh: async () => undefined, session: () => "" };
function renderSessions(view) {
    $("session-name").textContent = view.current;
    const select = $("earlier-sessions");
    const options = [el("option", { value: "" }, view.earlier.length ? "Go back to…" : "No earlier sessions")];
    for (const name of view.earlier)
        options.push(el("option", { value: name }, name));
    select.replaceChildren(...options);
    select.disabled = view.earlier.length === 0;
}
export async function loadSessions() {
    renderSessions(await cmds.sessions());
}
function openNewSession() {
    const dialog = $("new-session-dialog");
    $("new-session-error").textContent = "";
    for (const id of ["new-session-name", "new-session-client", "new-session-job", "new-session-keywords"]) {
        $(id).value = "";
    }
    if (!dialog.open)
        dialog.showModal();
    $("new-session-name").focus();
}
async function startSession(ev) {
    ev.preventDefault();
    const name = $("new-session-name").value;
    const meta = [
        ["client", $("new-session-client").value.trim()],
        ["job", $("new-session-job").value.trim()],
        ["keywords", $("new-session-keywords").value.trim()],
    ].filter(([, v]) => v !== "");
    try {
        renderSessions(await cmds.switchSession(name));
        if (meta.length)
            await cmds.setSessionMeta(meta);
        $("new-session-dialog").close();
        await hooks.refresh();
    }
    catch (e) {
        $("new-session-error").textContent = String(e);
    }
}
let shown = null;
/** A logo chosen in the dialog and not applied yet ("" : taken off). */
let logo;
/** The share's proofing settings, its guests' selections (each with Unlock) and its
 *  activity. */
function renderProofing(share) {
    $("proofing-form").hidden = !share;
    $("share-selections-box").hidden = !share || share.selections.length === 0;
    $("share-activity-box").hidden = !share || share.activity.length === 0;
    if (!share)
        return;
    const pin = $("share-pin");
    pin.value = "";
    pin.placeholder = share.pin ? "set (type to change)" : "none";
    $("share-no-pin").checked = false;
    $("share-no-pin").disabled = !share.pin;
    $("share-watermark").value = share.watermark ?? "";
    logo = undefined;
    $("share-logo-name").textContent = share.watermark_logo ?? "none";
    $("share-watermark-position").value = share.watermark_position;
    $("share-watermark-size").value = String(share.watermark_size);
    $("share-watermark-opacity").value = String(share.watermark_opacity);
    $("share-downloads").value = share.downloads ?? "off";
    $("share-choose").value = share.choose ?? "";
    $("share-live").checked = share.live;
    $("share-live-overlay").checked = share.live_overlay;
    $("share-selections").replaceChildren(...share.selections.map((s) => {
        const unlock = el("button", { type: "button" }, "Unlock");
        unlock.setAttribute("aria-label", `Unlock ${s.name}'s selection`);
        unlock.addEventListener("click", () => void unlockSelection(share.id, s.guest, s.name));
        const li = el("li");
        li.append(el("strong", {}, s.name), ` sent ${s.count} frame${s.count === 1 ? "" : "s"} at ${new Date(s.sent_ms).toLocaleString()}: `, el("code", {}, s.filter), " ", unlock);
        return li;
    }));
    $("share-activity").replaceChildren(...share.activity.map((a) => el("li", {}, `${new Date(a.ts_ms).toLocaleString()} — ${a.text}`)));
}
async function reloadShare(status) {
    const id = shown?.id;
    const fresh = (await cmds.shares()).find((s) => s.id === id) ?? null;
    renderShare(fresh);
    $("share-status").textContent = status;
}
async function applyProofing(ev) {
    ev.preventDefault();
    if (!shown)
        return;
    const pin = $("share-pin").value.trim();
    const settings = {
        watermark: $("share-watermark").value,
        logo,
        position: $("share-watermark-position").value,
        size: Number($("share-watermark-size").value) || 25,
        opacity: Number($("share-watermark-opacity").value) || 50,
        downloads: $("share-downloads").value,
        choose: $("share-choose").value,
        live: $("share-live").checked,
        live_overlay: $("share-live-overlay").checked,
    };
    if ($("share-no-pin").checked)
        settings.pin = "";
    else if (pin)
        settings.pin = pin;
    try {
        await cmds.shareSettings(shown.id, settings);
        await reloadShare("Applied: open pages follow within seconds.");
    }
    catch (e) {
        $("share-error").textContent = String(e);
    }
}
async function pickLogo() {
    const path = await cmds.pickFile("A logo for the watermark (PNG, with transparency)", "PNG");
    if (!path)
        return;
    logo = path;
    $("share-logo-name").textContent = `${path.split(/[\\/]/).pop() ?? path} (Apply to use it)`;
}
async function unlockSelection(id, guest, name) {
    try {
        await cmds.unlockSelection(id, guest);
        $("share-status").textContent = `${name} may change their selection again.`;
    }
    catch (e) {
        $("share-error").textContent = String(e);
    }
}
async function extendShare() {
    if (!shown)
        return;
    try {
        await cmds.extendShare(shown.id, 7);
        await reloadShare("Extended.");
    }
    catch (e) {
        $("share-error").textContent = String(e);
    }
}
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
    $("extend-share").disabled = !share;
    renderProofing(share);
    $("share-status").textContent = share
        ? `Guests see every frame of this session until ${new Date(share.expires_ms).toLocaleString()}.`
        : "Making the link…";
}
async function openShare() {
    const dialog = $("share-dialog");
    $("share-session-name").textContent = hooks.session();
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
export function routeHash() {
    const dialog = location.hash.replace(/^#/, "");
    if (dialog === "new-session")
        openNewSession();
    else if (dialog === "share")
        void openShare();
    if (dialog)
        history.replaceState(null, "", location.pathname);
}
/** Wire the session and share dialogs; `given` says how to redraw and which session is on. */
export function wireSessions(given) {
    hooks = given;
    $("new-session").addEventListener("click", openNewSession);
    $("cancel-session").addEventListener("click", () => $("new-session-dialog").close());
    $("new-session-form").addEventListener("submit", (ev) => void startSession(ev));
    $("earlier-sessions").addEventListener("change", () => {
        const select = $("earlier-sessions");
        if (!select.value)
            return;
        void cmds.switchSession(select.value).then(renderSessions).then(hooks.refresh).catch((e) => alert(String(e)));
    });
    $("share-session").addEventListener("click", () => void openShare());
    $("copy-link").addEventListener("click", () => void copyLink());
    $("revoke-share").addEventListener("click", () => void revokeShown());
    $("extend-share").addEventListener("click", () => void extendShare());
    $("proofing-form").addEventListener("submit", (ev) => void applyProofing(ev));
    $("share-logo-pick").addEventListener("click", () => void pickLogo());
    $("share-logo-clear").addEventListener("click", () => {
        logo = "";
        $("share-logo-name").textContent = "none (Apply to take it off)";
    });
    $("close-share").addEventListener("click", () => $("share-dialog").close());
    window.addEventListener("hashchange", routeHash);
}
