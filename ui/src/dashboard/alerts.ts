// The dashboard's alerts: the list with dismiss and mute per category (mutes kept in this
// browser), the unread count on the Notifications button, and toasts for critical alerts
// and guests' comments.

import type { Notification } from "../generated/Notification";
import { el } from "./answers.js";

const MAX_ALERTS = 50;
/** Where this browser keeps the alert categories it muted. */
const MUTED_KEY = "shotline.dashboard.muted";
/** Alerts that raise a toast besides the critical ones. */
const TOAST_CATEGORIES = new Set(["gallery_comment"]);

let unread = 0;
const muted = new Set<string>(readMuted());

function $(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} missing from the page`);
  return element;
}

function readMuted(): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(MUTED_KEY) ?? "[]") as unknown;
    return Array.isArray(stored) ? stored.filter((c): c is string => typeof c === "string") : [];
  } catch {
    return [];
  }
}

function saveMuted(): void {
  try {
    localStorage.setItem(MUTED_KEY, JSON.stringify([...muted]));
  } catch {
    // storage refused (private mode): the mute holds for this page only
  }
}

export function alert(n: Notification): void {
  if (muted.has(n.category)) {
    renderMuted();
    return;
  }
  const list = $("alerts");
  const item = el("li", `alert ${n.level}`);
  item.dataset.category = n.category;
  const dismiss = el("button", "small", "Dismiss");
  dismiss.setAttribute("aria-label", `Dismiss: ${n.title}`);
  dismiss.addEventListener("click", () => item.remove());
  const mute = el("button", "small", "Mute");
  mute.setAttribute("aria-label", `Mute ${n.category} alerts`);
  mute.addEventListener("click", () => {
    muted.add(n.category);
    saveMuted();
    for (const other of list.querySelectorAll<HTMLElement>("li.alert")) {
      if (other.dataset.category === n.category) other.remove();
    }
    renderMuted();
  });
  item.append(
    el("strong", "", n.title),
    el("span", "", ` ${n.message}`),
    el("span", "muted", ` ${new Date().toLocaleTimeString()}`),
    dismiss,
    mute,
  );
  list.prepend(item);
  while (list.children.length > MAX_ALERTS) list.lastElementChild?.remove();
  $("no-alerts").hidden = true;
  unread += 1;
  renderUnread();
  if (n.level === "critical" || TOAST_CATEGORIES.has(n.category)) toast(n);
}

/** A toast at the top of the page: a critical alert stays until dismissed. */
function toast(n: Notification): void {
  const box = el("div", `toast ${n.level}`);
  const dismiss = el("button", "small", "Dismiss");
  dismiss.setAttribute("aria-label", `Dismiss: ${n.title}`);
  dismiss.addEventListener("click", () => box.remove());
  box.append(el("strong", "", n.title), el("span", "", ` ${n.message}`), dismiss);
  const toasts = $("toasts");
  toasts.append(box);
  while (toasts.children.length > 4) {
    const oldest = [...toasts.children].find((t) => !t.classList.contains("critical")) ?? toasts.firstElementChild;
    oldest?.remove();
  }
  if (n.level !== "critical") window.setTimeout(() => box.remove(), 8000);
}

export function renderUnread(): void {
  const count = $("unread");
  count.textContent = String(unread);
  count.hidden = unread === 0;
  $("unread-text").textContent = unread === 0 ? "no unread alerts" : `${unread} unread alerts`;
}

export function renderMuted(): void {
  const line = $("muted-categories");
  line.replaceChildren();
  line.hidden = muted.size === 0;
  if (muted.size === 0) return;
  line.append("Muted in this browser: ");
  for (const category of [...muted].sort()) {
    const unmute = el("button", "small", `${category} ✕`);
    unmute.setAttribute("aria-label", `Unmute ${category} alerts`);
    unmute.addEventListener("click", () => {
      muted.delete(category);
      saveMuted();
      renderMuted();
    });
    line.append(unmute);
  }
}

/** The alerts were looked at: no unread ones. */
export function markRead(): void {
  unread = 0;
  renderUnread();
}
