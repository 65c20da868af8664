// The window's camera controls: each connected camera's key settings (ISO, shutter speed,
// aperture, white balance, image format) as a labelled list of the values the camera takes,
// set through the engine's camera thread, with the camera's answer, or why it refused,
// beside the control. The controls are kept across refreshes (a refresh must not close an
// open list or lose what the camera said), and rebuilt only when a camera's choices change.
import * as cmds from "./cmds.js";
/** Shotline's setting names, in the order tethering apps show them, with their labels. */
const NAMES = [
    ["iso", "ISO"],
    ["shutterspeed", "Shutter speed"],
    ["aperture", "Aperture"],
    ["whitebalance", "White balance"],
    ["imageformat", "Image format"],
];
/** What the camera last said about a setting, by `port|name`, kept across rebuilds. */
const said = new Map();
/** Settings being set now (their control shows the asked value until the answer). */
const pending = new Set();
function node(tag, attrs = {}, text = "") {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs))
        n.setAttribute(k, v);
    n.textContent = text;
    return n;
}
const slug = (s) => s.replace(/[^A-Za-z0-9]+/g, "-");
/** Draw (or update in place) the controls of the connected cameras into `box`. */
export function renderCameraControls(box, cameras, refresh) {
    const connected = cameras.filter((c) => c.state === "connected");
    const signature = JSON.stringify(connected.map((c) => [c.port, c.model, (c.settings ?? []).map((s) => [s.name, s.choices ?? [], !!s.readonly, (s.choices ?? []).includes(s.value)])]));
    if (box.dataset.signature !== signature) {
        box.dataset.signature = signature;
        box.replaceChildren(...connected.map((c) => cameraGroup(c, refresh)));
    }
    for (const c of connected) {
        for (const s of c.settings ?? []) {
            const id = `${c.port}|${s.name}`;
            const control = box.querySelector(`[data-setting-id="${CSS.escape(id)}"]`);
            // Not while someone has the list open or a request is out: the camera's answer
            // comes with the next refresh.
            if (control && !pending.has(id) && document.activeElement !== control)
                control.value = s.value;
            const status = box.querySelector(`[data-status-id="${CSS.escape(id)}"]`);
            const last = said.get(id);
            if (status && last) {
                status.textContent = last.text;
                status.classList.toggle("refused", last.refused);
            }
        }
    }
}
function cameraGroup(c, refresh) {
    const group = node("div", { class: "camera-settings", role: "group", "aria-label": `${c.model} settings`, "data-port": c.port });
    const settings = c.settings ?? [];
    for (const [name, label] of NAMES) {
        const s = settings.find((x) => x.name === name);
        if (s)
            group.append(settingRow(c.port, s, label, refresh));
    }
    const missing = NAMES.filter(([name]) => !settings.some((s) => s.name === name)).map(([, label]) => label);
    if (missing.length > 0) {
        group.append(node("div", { class: "muted camera-missing" }, `Not reported by this camera: ${missing.join(", ")}`));
    }
    return group;
}
function settingRow(port, s, label, refresh) {
    const id = `${port}|${s.name}`;
    const dom = `camera-${slug(port)}-${s.name}`;
    const row = node("div", { class: "camera-setting" });
    row.append(node("label", { for: dom }, label));
    const choices = s.choices ?? [];
    let control;
    if (choices.length > 0) {
        const select = document.createElement("select");
        // A value outside the camera's list (a manual lens, Bulb) is shown as it is, or as "—".
        if (!choices.includes(s.value))
            select.append(new Option(s.value || "—", s.value));
        for (const v of choices)
            select.append(new Option(v, v));
        control = select;
    }
    else {
        const input = document.createElement("input");
        input.type = "text";
        control = input;
    }
    control.id = dom;
    control.name = s.name;
    control.value = s.value;
    control.dataset.settingId = id;
    control.dataset.setting = s.name;
    control.dataset.port = port;
    control.setAttribute("aria-describedby", `${dom}-status`);
    if (s.readonly) {
        control.disabled = true;
        control.title = "Set on the camera (the mode dial or the lens decides it)";
    }
    control.addEventListener("change", () => void apply(port, s.name, control, refresh));
    const status = node("span", { id: `${dom}-status`, class: "setting-status", role: "status", "aria-live": "polite", "data-status-id": id });
    const last = said.get(id);
    if (last) {
        status.textContent = last.text;
        status.classList.toggle("refused", last.refused);
    }
    else if (s.readonly) {
        status.textContent = "set on the camera";
    }
    row.append(control, status);
    return row;
}
/** Ask the camera for the control's value; say what it answered beside the control. */
async function apply(port, name, control, refresh) {
    const id = `${port}|${name}`;
    const status = document.querySelector(`[data-status-id="${CSS.escape(id)}"]`);
    const show = (text, refused) => {
        said.set(id, { text, refused });
        if (status) {
            status.textContent = text;
            status.classList.toggle("refused", refused);
        }
    };
    pending.add(id);
    show("Setting…", false);
    try {
        const answer = await cmds.cameraSet(port, name, control.value);
        // "aperture = f/5.6": the value the camera read back.
        const value = answer.includes(" = ") ? answer.slice(answer.indexOf(" = ") + 3) : answer;
        show(`Set: ${value}`, false);
    }
    catch (e) {
        show(`Refused: ${String(e)}`, true);
    }
    finally {
        pending.delete(id);
        control.blur();
        refresh();
    }
}
