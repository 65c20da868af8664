// The tray window's sessions and shares: the current session and the earlier ones to go
// back to, a new session by name, and the guests' link of a session (QR code, copy,
// extend, revoke) with its proofing (PIN, watermark, downloads, choose N), the guests'
// selections (each to unlock) and the share's activity. The tray opens the window on one of these dialogs by naming it in the fragment.

import type { SessionsView } from "../generated/SessionsView";
import type { ShareView } from "../generated/ShareView";
import * as cmds from "./cmds.js";
import { $, el } from "./dom.js";

/** What this part needs from the window: a redraw, and the current session's name. */
export interface Hooks {
  refresh: () => Promise<void>;
  session: () => string;
}

let hooks: Hooks = { refresh: async () => undefined, session: () => "" };

function renderSessions(view: SessionsView): void {
  $("session-name").textContent = view.current;
  const select = $<HTMLSelectElement>("earlier-sessions");
  const options = [el("option", { value: "" }, view.earlier.length ? "Go back to…" : "No earlier sessions")];
  for (const name of view.earlier) options.push(el("option", { value: name }, name));
  select.replaceChildren(...options);
  select.disabled = view.earlier.length === 0;
}

export async function loadSessions(): Promise<void> {
  renderSessions(await cmds.sessions());
}

function openNewSession(): void {
  const dialog = $<HTMLDialogElement>("new-session-dialog");
  $("new-session-error").textContent = "";
  for (const id of ["new-session-name", "new-session-client", "new-session-job", "new-session-keywords"]) {
    $<HTMLInputElement>(id).value = "";
  }
  if (!dialog.open) dialog.showModal();
  $<HTMLInputElement>("new-session-name").focus();
}

async function startSession(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const name = $<HTMLInputElement>("new-session-name").value;
  const meta: [string, string][] = [
    ["client", $<HTMLInputElement>("new-session-client").value.trim()],
    ["job", $<HTMLInputElement>("new-session-job").value.trim()],
    ["keywords", $<HTMLInputElement>("new-session-keywords").value.trim()],
  ].filter(([, v]) => v !== "") as [string, string][];
  try {
    renderSessions(await cmds.switchSession(name));
    if (meta.length) await cmds.setSessionMeta(meta);
    $<HTMLDialogElement>("new-session-dialog").close();
    await hooks.refresh();
  } catch (e) {
    $("new-session-error").textContent = String(e);
  }
}

let shown: ShareView | null = null;
/** A logo chosen in the dialog and not applied yet ("" : taken off). */
let logo: string | undefined;

/** The share's proofing settings, its guests' selections (each with Unlock) and its
 *  activity. */
function renderProofing(share: ShareView | null): void {
  $("proofing-form").hidden = !share;
  $("share-selections-box").hidden = !share || share.selections.length === 0;
  $("share-activity-box").hidden = !share || share.activity.length === 0;
  if (!share) return;
  const pin = $<HTMLInputElement>("share-pin");
  pin.value = "";
  pin.placeholder = share.pin ? "set (type to change)" : "none";
  $<HTMLInputElement>("share-no-pin").checked = false;
  $<HTMLInputElement>("share-no-pin").disabled = !share.pin;
  $<HTMLInputElement>("share-watermark").value = share.watermark ?? "";
  logo = undefined;
  $("share-logo-name").textContent = share.watermark_logo ?? "none";
  $<HTMLSelectElement>("share-watermark-position").value = share.watermark_position;
  $<HTMLInputElement>("share-watermark-size").value = String(share.watermark_size);
  $<HTMLInputElement>("share-watermark-opacity").value = String(share.watermark_opacity);
  $<HTMLSelectElement>("share-downloads").value = share.downloads ?? "off";
  $<HTMLInputElement>("share-choose").value = share.choose ?? "";
  $<HTMLInputElement>("share-live").checked = share.live;
  $<HTMLInputElement>("share-live-overlay").checked = share.live_overlay;
  $("share-selections").replaceChildren(
    ...share.selections.map((s) => {
      const unlock = el("button", { type: "button" }, "Unlock");
      unlock.setAttribute("aria-label", `Unlock ${s.name}'s selection`);
      unlock.addEventListener("click", () => void unlockSelection(share.id, s.guest, s.name));
      const li = el("li");
      li.append(
        el("strong", {}, s.name),
        ` sent ${s.count} frame${s.count === 1 ? "" : "s"} at ${new Date(s.sent_ms).toLocaleString()}: `,
        el("code", {}, s.filter),
        " ",
        unlock,
      );
      return li;
    }),
  );
  $("share-activity").replaceChildren(
    ...share.activity.map((a) => el("li", {}, `${new Date(a.ts_ms).toLocaleString()} — ${a.text}`)),
  );
}

async function reloadShare(status: string): Promise<void> {
  const id = shown?.id;
  const fresh = (await cmds.shares()).find((s) => s.id === id) ?? null;
  renderShare(fresh);
  $("share-status").textContent = status;
}

async function applyProofing(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  if (!shown) return;
  const pin = $<HTMLInputElement>("share-pin").value.trim();
  const settings: cmds.ProofingSettings = {
    watermark: $<HTMLInputElement>("share-watermark").value,
    logo,
    position: $<HTMLSelectElement>("share-watermark-position").value,
    size: Number($<HTMLInputElement>("share-watermark-size").value) || 25,
    opacity: Number($<HTMLInputElement>("share-watermark-opacity").value) || 50,
    downloads: $<HTMLSelectElement>("share-downloads").value,
    choose: $<HTMLInputElement>("share-choose").value,
    live: $<HTMLInputElement>("share-live").checked,
    live_overlay: $<HTMLInputElement>("share-live-overlay").checked,
  };
  if ($<HTMLInputElement>("share-no-pin").checked) settings.pin = "";
  else if (pin) settings.pin = pin;
  try {
    await cmds.shareSettings(shown.id, settings);
    await reloadShare("Applied: open pages follow within seconds.");
  } catch (e) {
    $("share-error").textContent = String(e);
  }
}

async function pickLogo(): Promise<void> {
  const path = await cmds.pickFile("A logo for the watermark (PNG, with transparency)", "PNG");
  if (!path) return;
  logo = path;
  $("share-logo-name").textContent = `${path.split(/[\\/]/).pop() ?? path} (Apply to use it)`;
}

async function unlockSelection(id: string, guest: string, name: string): Promise<void> {
  try {
    await cmds.unlockSelection(id, guest);
    $("share-status").textContent = `${name} may change their selection again.`;
  } catch (e) {
    $("share-error").textContent = String(e);
  }
}

async function extendShare(): Promise<void> {
  if (!shown) return;
  try {
    await cmds.extendShare(shown.id, 7);
    await reloadShare("Extended.");
  } catch (e) {
    $("share-error").textContent = String(e);
  }
}

function renderShare(share: ShareView | null): void {
  shown = share;
  $("share-error").textContent = "";
  const link = share?.link ?? "";
  $<HTMLInputElement>("share-link").value = link;
  const qr = $<HTMLImageElement>("share-qr");
  qr.hidden = !share?.qr;
  if (share?.qr) qr.src = share.qr;
  const note = $("share-note");
  note.hidden = !share?.note;
  note.textContent = share?.note ? `Note: ${share.note}` : "";
  $<HTMLButtonElement>("copy-link").disabled = !link;
  $<HTMLButtonElement>("revoke-share").disabled = !share;
  $<HTMLButtonElement>("extend-share").disabled = !share;
  renderProofing(share);
  $("share-status").textContent = share
    ? `Guests see every frame of this session until ${new Date(share.expires_ms).toLocaleString()}.`
    : "Making the link…";
}

async function openShare(): Promise<void> {
  const dialog = $<HTMLDialogElement>("share-dialog");
  $("share-session-name").textContent = hooks.session();
  renderShare(null);
  if (!dialog.open) dialog.showModal();
  try {
    renderShare(await cmds.shareSession());
  } catch (e) {
    $("share-status").textContent = "No link.";
    $("share-error").textContent = String(e);
  }
}

async function copyLink(): Promise<void> {
  const field = $<HTMLInputElement>("share-link");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.select();
    document.execCommand("copy");
  }
  $("share-status").textContent = "Link copied.";
}

async function revokeShown(): Promise<void> {
  if (!shown) return;
  try {
    await cmds.revokeShare(shown.id);
    renderShare(null);
    $("share-status").textContent = "Revoked: the link no longer opens, and open pages were closed.";
    $<HTMLButtonElement>("revoke-share").disabled = true;
  } catch (e) {
    $("share-error").textContent = String(e);
  }
}

/** The tray opens the window on a dialog by naming it in the fragment. */
export function routeHash(): void {
  const dialog = location.hash.replace(/^#/, "");
  if (dialog === "new-session") openNewSession();
  else if (dialog === "share") void openShare();
  if (dialog) history.replaceState(null, "", location.pathname);
}

/** Wire the session and share dialogs; `given` says how to redraw and which session is on. */
export function wireSessions(given: Hooks): void {
  hooks = given;
  $("new-session").addEventListener("click", openNewSession);
  $("cancel-session").addEventListener("click", () => $<HTMLDialogElement>("new-session-dialog").close());
  $("new-session-form").addEventListener("submit", (ev) => void startSession(ev as SubmitEvent));
  $("earlier-sessions").addEventListener("change", () => {
    const select = $<HTMLSelectElement>("earlier-sessions");
    if (!select.value) return;
    void cmds.switchSession(select.value).then(renderSessions).then(hooks.refresh).catch((e) => alert(String(e)));
  });
  $("share-session").addEventListener("click", () => void openShare());
  $("copy-link").addEventListener("click", () => void copyLink());
  $("revoke-share").addEventListener("click", () => void revokeShown());
  $("extend-share").addEventListener("click", () => void extendShare());
  $("proofing-form").addEventListener("submit", (ev) => void applyProofing(ev as SubmitEvent));
  $("share-logo-pick").addEventListener("click", () => void pickLogo());
  $("share-logo-clear").addEventListener("click", () => {
    logo = "";
    $("share-logo-name").textContent = "none (Apply to take it off)";
  });
  $("close-share").addEventListener("click", () => $<HTMLDialogElement>("share-dialog").close());
  window.addEventListener("hashchange", routeHash);
}
