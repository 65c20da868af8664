// The tray window's Settings: the form filled from the engine's settings, hot folders and
// backup drives added and removed, the naming template's example, notification mutes, and
// each refused value shown beside its field after Save.

import type { Settings } from "../generated/Settings";
import type { FieldError } from "../generated/FieldError";
import * as cmds from "./cmds.js";
import { $, el } from "./dom.js";

const MUTABLE = [
  ["target_offline", "Backup drive missing"],
  ["target_full", "Backup drive full"],
  ["card_full", "Camera card full"],
  ["camera_lost", "Camera disconnected"],
  ["relay_unreachable", "Relay unreachable"],
  ["upload_finished", "Uploads finished"],
] as const;

let loaded: Settings | null = null;

function input(name: string): HTMLInputElement {
  return ($("settings") as HTMLFormElement).elements.namedItem(name) as HTMLInputElement;
}

function folderRow(container: HTMLElement, index: number, value: string): void {
  const key = `hot_folder[${index}].path`;
  const row = el("div", { class: "pick hot-folder" });
  const field = el("input", { "data-key": key, value }) as HTMLInputElement;
  field.value = value;
  const pick = el("button", { type: "button" }, "Choose…");
  pick.addEventListener("click", () => void cmds.pickFolder("Hot folder").then((p) => { if (p) field.value = p; }));
  const remove = el("button", { type: "button" }, "Remove");
  remove.addEventListener("click", () => row.remove());
  row.append(field, pick, remove);
  container.append(row, el("p", { class: "error", "data-error-for": key }));
}

function backupRow(container: HTMLElement, index: number, b: { name: string; path: string; require_mount: boolean }): void {
  const row = el("div", { class: "row backup" });
  const name = el("input", { "data-key": `backup[${index}].name`, placeholder: "name" }) as HTMLInputElement;
  name.value = b.name;
  const path = el("input", { "data-key": `backup[${index}].path`, placeholder: "folder" }) as HTMLInputElement;
  path.value = b.path;
  const pick = el("button", { type: "button" }, "Choose…");
  pick.addEventListener("click", () => void cmds.pickFolder("Backup folder").then((p) => { if (p) path.value = p; }));
  const mountLabel = el("label", { class: "check" }, " drive must be mounted");
  const mount = el("input", { type: "checkbox" }) as HTMLInputElement;
  mount.checked = b.require_mount;
  mountLabel.prepend(mount);
  const remove = el("button", { type: "button" }, "Remove");
  remove.addEventListener("click", () => row.remove());
  row.append(name, path, pick, mountLabel, remove);
  container.append(row, el("p", { class: "error", "data-error-for": `backup[${index}].name` }), el("p", { class: "error", "data-error-for": `backup[${index}].path` }));
}

async function showExample(): Promise<void> {
  const out = $("naming-example");
  try {
    out.textContent = await cmds.namingExample(input("naming").value);
    setErrors([], ["library.naming"]);
  } catch (e) {
    out.textContent = "";
    setErrors([{ key: "library.naming", message: String(e) }], ["library.naming"]);
  }
}

async function openSettings(): Promise<void> {
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
  fillEmail(s);
  input("autostart").checked = s.prefs.autostart;
  input("relay_alert_minutes").value = String(s.prefs.relay_alert_minutes);
  const mutes = $("mutes");
  mutes.replaceChildren();
  for (const [category, label] of MUTABLE) {
    const l = el("label", { class: "check" }, ` ${label}`);
    const box = el("input", { type: "checkbox", "data-mute": category }) as HTMLInputElement;
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

/** The Email fieldset from `s`. */
function fillEmail(s: Settings): void {
  input("email_on").checked = s.email !== null;
  input("email_server").value = s.email?.server ?? "";
  input("email_tls").value = s.email?.tls ?? "starttls";
  input("email_port").value = s.email?.port ?? "";
  input("email_username").value = s.email?.username ?? "";
  input("smtp_password").value = "";
  $("smtp-password-stored").textContent = s.smtp_password_stored ? "(stored in the keychain)" : "";
  input("email_from").value = s.email?.from ?? "";
  input("email_to").value = s.email?.to ?? "";
  input("email_digest_at").value = s.email?.digest_at ?? "18:00";
}

function emailValue(): Settings["email"] {
  if (!input("email_on").checked) return null;
  return {
    server: input("email_server").value,
    port: input("email_port").value,
    tls: input("email_tls").value,
    username: input("email_username").value,
    from: input("email_from").value,
    to: input("email_to").value,
    digest_at: input("email_digest_at").value,
  };
}

function formValue(): Settings {
  const base = loaded as Settings;
  const hot = Array.from(document.querySelectorAll<HTMLInputElement>(".hot-folder input")).map((i) => i.value);
  const backups = Array.from(document.querySelectorAll<HTMLElement>(".row.backup")).map((row) => {
    const [name, path] = Array.from(row.querySelectorAll<HTMLInputElement>("input:not([type=checkbox])"));
    const mount = row.querySelector<HTMLInputElement>("input[type=checkbox]");
    return { name: name.value, path: path.value, require_mount: mount?.checked ?? false };
  });
  const muted = Array.from(document.querySelectorAll<HTMLInputElement>("[data-mute]")).filter((b) => b.checked).map((b) => b.dataset.mute as string);
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
    email: emailValue(),
    smtp_password: input("smtp_password").value,
    prefs: { autostart: input("autostart").checked, muted, relay_alert_minutes: Number(input("relay_alert_minutes").value) || 0 },
  };
}

/** Show `errors` beside their fields; `only`: clear just these keys first. */
function setErrors(errors: FieldError[], only?: string[]): void {
  for (const slot of document.querySelectorAll<HTMLElement>("[data-error-for]")) {
    if (!only || only.includes(slot.dataset.errorFor as string)) slot.textContent = "";
  }
  for (const field of document.querySelectorAll<HTMLInputElement>("[data-key]")) {
    if (!only || only.includes(field.dataset.key as string)) field.removeAttribute("aria-invalid");
  }
  const other: string[] = [];
  for (const e of errors) {
    const slot = document.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(e.key)}"]`);
    const field = document.querySelector<HTMLInputElement>(`[data-key="${CSS.escape(e.key)}"]`);
    if (slot) {
      slot.textContent = e.message;
      field?.setAttribute("aria-invalid", "true");
    } else {
      other.push(`${e.key}: ${e.message}`);
    }
  }
  if (!only) $("other-errors").textContent = other.join("\n");
}

async function save(ev: SubmitEvent, refresh: () => Promise<void>): Promise<void> {
  ev.preventDefault();
  const errors = await cmds.saveSettings(formValue());
  setErrors(errors);
  if (errors.length === 0) {
    $("saved").hidden = false;
    await refresh();
  }
}

function closeSettings(): void {
  $("settings").hidden = true;
  $("overview").hidden = false;
}

/** Wire the Settings form and its toggle; `refresh` redraws the overview after a save. */
export function wireSettings(refresh: () => Promise<void>): void {
  $("toggle-settings").addEventListener("click", () => {
    if ($("settings").hidden) void openSettings();
    else closeSettings();
  });
  $("cancel").addEventListener("click", closeSettings);
  $("settings").addEventListener("submit", (ev) => void save(ev as SubmitEvent, refresh));
  $("add-hot-folder").addEventListener("click", () => folderRow($("hot-folders"), document.querySelectorAll(".hot-folder").length, ""));
  $("add-backup").addEventListener("click", () => backupRow($("backups"), document.querySelectorAll(".row.backup").length, { name: "", path: "", require_mount: false }));
  $("settings").querySelector("[data-pick=library]")?.addEventListener("click", () => void cmds.pickFolder("Library folder").then((p) => { if (p) input("library").value = p; }));
  input("naming").addEventListener("input", () => void showExample());
}
