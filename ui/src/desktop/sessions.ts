// The tray window's sessions and shares: the current session and the earlier ones to go
// back to, a new session by name, and the guests' link of a session (QR code, copy,
// revoke). The tray opens the window on one of these dialogs by naming it in the fragment.

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
  $("close-share").addEventListener("click", () => $<HTMLDialogElement>("share-dialog").close());
  window.addEventListener("hashchange", routeHash);
}
