// The tray window's small DOM helpers: an element by id, a new element with attributes and
// text, and a size in bytes for people.

export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function el(tag: string, attrs: Record<string, string> = {}, text = ""): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, v);
  }
  node.textContent = text;
  return node;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "?";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
