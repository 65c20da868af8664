// The tray window's small DOM helpers: an element by id, a new element with attributes and
// text, and a size in bytes for people.
export const $ = (id) => document.getElementById(id);
export function el(tag, attrs = {}, text = "") {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        node.setAttribute(k, v);
    }
    node.textContent = text;
    return node;
}
export function bytes(n) {
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
