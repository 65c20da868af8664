// The window's shot list panel: the current session's items, the one being shot with its
// views ticked and what is still missing, and the field a USB barcode scanner types into
// (the code, then Enter) to move to an item. An unknown code is shown and nothing
// changes; frames shot with no item are unsorted, never lost.
import * as cmds from "./cmds.js";
import { $, el } from "./dom.js";
function render(view) {
    const list = $("shotlist-items");
    $("no-shotlist").hidden = view.items.length > 0;
    const current = view.items.find((i) => i.code === view.current);
    const line = $("current-item");
    if (current) {
        const views = current.views.map((v) => el("span", { class: current.shot.includes(v) ? "view shot" : "view" }, `${current.shot.includes(v) ? "✓" : "○"} ${v}`));
        line.replaceChildren(el("strong", {}, `${current.code} · ${current.name}`), ...views, el("span", { class: "muted" }, current.missing.length ? `missing ${current.missing.join(", ")}` : "every view shot"));
    }
    else {
        line.replaceChildren(el("span", { class: "muted" }, view.items.length ? "No item: frames are unsorted." : ""));
    }
    list.replaceChildren(...view.items.map((i) => {
        const done = i.missing.length === 0;
        const row = el("li", { class: done ? "item complete" : "item" });
        row.dataset.code = i.code;
        if (i.code === view.current)
            row.setAttribute("aria-current", "true");
        // A click moves to the item, as a scan does.
        const pick = el("button", { type: "button", class: "link" }, `${i.code} ${i.name}: ${done ? "complete" : `missing ${i.missing.join(", ")}`}${i.extra ? ` (+${i.extra} extra)` : ""}`);
        pick.addEventListener("click", () => void go(i.code));
        row.append(pick);
        return row;
    }));
}
/** Redraw from the engine's journal. */
export async function loadShotlist() {
    try {
        render(await cmds.shotlist());
    }
    catch {
        // The engine is not running yet: the panel stays as it is.
    }
}
async function go(code) {
    const error = $("item-error");
    error.textContent = "";
    try {
        render(await cmds.shotNext(code));
        $("item-code").value = "";
    }
    catch (e) {
        error.textContent = String(e);
        $("item-code").select();
    }
}
async function load() {
    const error = $("item-error");
    error.textContent = "";
    const path = await cmds.pickFile("Load a shot list (CSV: code, name, views)");
    if (!path)
        return;
    try {
        render(await cmds.loadShotlist(path));
    }
    catch (e) {
        error.textContent = String(e);
    }
}
/** Wire the panel: a scanner's Enter submits the field. */
export function wireShotlist() {
    $("item-form").addEventListener("submit", (ev) => {
        ev.preventDefault();
        const code = $("item-code").value.trim();
        if (code)
            void go(code);
    });
    $("item-none").addEventListener("click", () => void go(""));
    $("load-shotlist").addEventListener("click", () => void load());
}
