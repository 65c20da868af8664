// The gallery page's controls: the open frame's answers (Like, stars, colour labels, the
// comment, Pick) and downloads, the filter bar over the grid, and sending one answer
// to the relay — shown at once here, and by the relay to every page of the share.
import { LABELS } from "./answers.js";
import { $ } from "./dom.js";
import { download, downloadOriginal, downloadPicks } from "./downloads.js";
import { channel, explain, mySub, refusedForGood, storedGuest, token } from "./session.js";
let parts;
/** Show only the frames the filter bar asks for. */
export function applyFilters() {
    if (!parts)
        return;
    const { answers, grid } = parts;
    const min = Number($("filter-rating").value);
    const label = $("filter-label").value;
    const liked = $("filter-liked").checked;
    const commented = $("filter-commented").checked;
    const mine = $("filter-mine").checked;
    const me = mySub();
    const active = min > 0 || label !== "" || liked || commented || mine;
    const shown = grid.filter((f) => (min === 0 || (answers.rating(f.frame) ?? 0) >= min) &&
        (label === "" || answers.label(f.frame) === label) &&
        (!liked || answers.likes(f.frame) > 0) &&
        (!commented || answers.of(f.frame).comments.length > 0) &&
        (!mine || (me !== undefined && answers.answeredBy(f.frame, me))));
    $("filter-count").textContent = active ? `${shown} of ${grid.size} shown` : "";
}
/** A publish id: random, and unique enough (no `crypto.randomUUID` on plain http). */
function newId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
/** Send one answer; shown at once, and by the relay to every page of the share. */
export async function answer(type, payload) {
    const error = $("answer-error");
    error.textContent = "";
    const sub = mySub();
    if (!parts)
        return false;
    const { answers, refreshFrame, refreshPicks, close, askName } = parts;
    if (sub === undefined) {
        error.textContent = "Give your name first (at the top of the page), so the studio knows who answered.";
        askName();
        return false;
    }
    const id = newId();
    const event = { type, payload };
    const response = await fetch(`/v1/channels/${encodeURIComponent(channel)}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
        body: JSON.stringify({ id, event }),
    }).catch(() => undefined);
    if (!response) {
        error.textContent = "The gallery cannot be reached: try again in a moment.";
        return false;
    }
    if (await refusedForGood(response)) {
        close();
        return false;
    }
    if (!response.ok) {
        const body = (await response.json().catch(() => ({})));
        error.textContent = explain(body.code, body.message ?? `Not accepted (HTTP ${response.status}).`);
        return false;
    }
    // The relay keeps a guest's answer under an id of its own (`g:<guest>:<id>`).
    const kept = (await response.json().catch(() => ({})));
    const name = storedGuest()?.name ?? "You";
    const entry = { id: kept.id ?? id, ts: Date.now(), event: { type, payload: { ...payload, sub, name } } };
    const frame = answers.apply(entry, true);
    if (frame !== undefined)
        refreshFrame(frame);
    refreshPicks();
    return true;
}
/** Wire the open frame's buttons, the comment form, the downloads and the filter bar. */
export function wireControls(given) {
    parts = given;
    const { answers, grid, viewer, selection } = given;
    $("pick").addEventListener("click", () => {
        const frame = viewer.frame;
        if (frame !== undefined)
            void selection.toggle(frame);
    });
    $("download").addEventListener("click", () => {
        const frame = viewer.frame;
        const name = frame === undefined ? undefined : grid.get(frame)?.name;
        if (frame !== undefined && name !== undefined)
            void download(frame, name);
    });
    $("download-original").addEventListener("click", () => {
        const frame = viewer.frame;
        const name = frame === undefined ? undefined : grid.get(frame)?.name;
        if (frame !== undefined && name !== undefined)
            void downloadOriginal(frame, name);
    });
    $("download-picks").addEventListener("click", () => {
        const me = mySub();
        if (me !== undefined)
            void downloadPicks(answers.picked(me));
    });
    $("like").addEventListener("click", () => {
        const frame = viewer.frame;
        if (frame === undefined)
            return;
        const me = mySub();
        const liked = me !== undefined && answers.of(frame).likes.get(me)?.value === true;
        void answer("gallery_like", { frame, liked: !liked });
    });
    for (const b of document.querySelectorAll(".star")) {
        b.addEventListener("click", () => {
            const frame = viewer.frame;
            if (frame !== undefined)
                void answer("gallery_rating", { frame, stars: Number(b.dataset.stars) });
        });
    }
    for (const b of document.querySelectorAll(".swatch")) {
        b.addEventListener("click", () => {
            const frame = viewer.frame;
            const label = b.dataset.label ?? "none";
            if (frame !== undefined && (label === "none" || LABELS.includes(label))) {
                void answer("gallery_label", { frame, label });
            }
        });
    }
    $("comment-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const frame = viewer.frame;
        const input = $("comment-input");
        const text = input.value.trim();
        if (frame === undefined || !text)
            return;
        if ([...text].length > 2000) {
            $("answer-error").textContent = "A comment is at most 2,000 characters.";
            return;
        }
        void answer("gallery_comment", { frame, text }).then((sent) => {
            if (sent)
                input.value = "";
        });
    });
    $("filters").addEventListener("change", applyFilters);
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("filters").addEventListener("change", applyFilters);
    $("filters").addEventListener("submit", (event) => event.preventDefault());
}
