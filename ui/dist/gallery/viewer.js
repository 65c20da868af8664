// The frame opened large on the gallery page: a modal dialog with the preview (the
// thumbnail first, then the 2048 px preview once loaded), previous and next by button,
// arrow key or swipe, and the frame's answers — this guest's own like, stars and label
// pressed, this guest's pick when a selection is asked for, every guest's marks, and the
// comment thread — always as text.
import { $ } from "./dom.js";
import { PLACEHOLDER } from "./grid.js";
export class Viewer {
    constructor(parts) {
        this.parts = parts;
        this.dialog = $("viewer");
        this.image = $("viewer-image");
        $("viewer-close").addEventListener("click", () => this.dialog.close());
        $("viewer-prev").addEventListener("click", () => this.step(-1));
        $("viewer-next").addEventListener("click", () => this.step(1));
        this.dialog.addEventListener("keydown", (event) => {
            if (event.key === "ArrowLeft")
                this.step(-1);
            else if (event.key === "ArrowRight")
                this.step(1);
            else
                return;
            event.preventDefault();
        });
        const stage = this.image.parentElement ?? this.dialog;
        stage.addEventListener("touchstart", (e) => (this.touchX = e.touches[0]?.clientX), { passive: true });
        stage.addEventListener("touchend", (e) => {
            const start = this.touchX;
            const end = e.changedTouches[0]?.clientX;
            this.touchX = undefined;
            if (start === undefined || end === undefined || Math.abs(end - start) < 50)
                return;
            this.step(end < start ? 1 : -1);
        }, { passive: true });
        this.dialog.addEventListener("close", () => {
            this.current = undefined;
            this.image.removeAttribute("src");
        });
    }
    open(frame) {
        this.show(frame);
        if (!this.dialog.open)
            this.dialog.showModal();
    }
    /** `frame`'s answers changed: show them if it is open. */
    answered(frame) {
        if (this.current === frame)
            this.showAnswers(frame);
    }
    /** The open frame. */
    get frame() {
        return this.current;
    }
    showAnswers(id) {
        const { answers } = this.parts;
        const a = answers.of(id);
        const me = this.parts.me();
        const mine = (map) => (me === undefined ? undefined : map.get(me)?.value);
        const like = $("like");
        like.setAttribute("aria-pressed", String(mine(a.likes) === true));
        const picked = this.parts.picked(id);
        const pick = $("pick");
        pick.hidden = picked === undefined;
        pick.setAttribute("aria-pressed", String(picked === true));
        pick.textContent = picked ? "Picked ✓" : "Pick";
        const n = answers.likes(id);
        $("like-count").textContent = n === 0 ? "" : n === 1 ? "1 like" : `${n} likes`;
        const stars = mine(a.ratings) ?? 0;
        for (const b of document.querySelectorAll(".star")) {
            b.setAttribute("aria-pressed", String(Number(b.dataset.stars) <= stars && stars > 0));
        }
        const label = mine(a.labels);
        for (const b of document.querySelectorAll(".swatch")) {
            b.setAttribute("aria-pressed", String(label !== undefined && b.dataset.label === label));
        }
        const marks = [];
        const subs = new Set([...a.ratings.keys(), ...a.labels.keys()]);
        for (const sub of subs) {
            const rating = a.ratings.get(sub);
            const lab = a.labels.get(sub);
            const li = document.createElement("li");
            const who = document.createElement("span");
            who.className = "who";
            who.textContent = (rating ?? lab)?.name ?? "A guest";
            const what = [];
            if (rating)
                what.push(rating.value === 0 ? "no stars" : `${"★".repeat(rating.value)}`);
            if (lab && lab.value !== "none")
                what.push(lab.value);
            li.append(who, document.createTextNode(`: ${what.join(", ") || "no marks"}`));
            marks.push(li);
        }
        $("marks-list").replaceChildren(...marks);
        const items = a.comments.map((c) => {
            const li = document.createElement("li");
            const who = document.createElement("span");
            who.className = "who";
            who.textContent = c.name;
            const time = document.createElement("time");
            time.dateTime = new Date(c.ts).toISOString();
            time.textContent = new Date(c.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
            const text = document.createElement("div");
            text.className = "text";
            text.dir = "auto";
            text.textContent = c.text;
            li.append(who, time, text);
            return li;
        });
        $("comments").replaceChildren(...items);
    }
    /** A frame arrived (a newer one: the position text changes; the open one's 2048 px
     *  preview, sent after its thumbnail: it replaces the thumbnail). */
    refresh(arrived) {
        if (this.current === undefined)
            return;
        this.position();
        const id = this.current;
        const large = arrived?.frame === id ? arrived.preview : undefined;
        if (!large || large === this.shownPreview)
            return;
        this.shownPreview = large;
        void this.parts.loadBlob(large).then((url) => {
            if (url && this.current === id)
                this.image.src = url;
        });
    }
    step(by) {
        if (this.current === undefined)
            return;
        const frames = this.parts.grid.frames();
        const at = frames.findIndex((f) => f.frame === this.current);
        const next = frames[at + by];
        if (next)
            this.show(next.frame);
    }
    position() {
        const frames = this.parts.grid.frames();
        const at = frames.findIndex((f) => f.frame === this.current);
        $("viewer-position").textContent = at >= 0 ? `${at + 1} of ${frames.length}` : "";
        $("viewer-prev").disabled = at <= 0;
        $("viewer-next").disabled = at < 0 || at >= frames.length - 1;
    }
    show(id) {
        const frame = this.parts.grid.get(id);
        if (!frame)
            return;
        this.current = id;
        $("answer-error").textContent = "";
        this.showAnswers(id);
        $("viewer-title").textContent = frame.name;
        this.image.alt = frame.name;
        this.position();
        const thumb = frame.thumbnail ? this.parts.cached(frame.thumbnail) : undefined;
        this.image.src = thumb ?? PLACEHOLDER;
        const large = frame.preview;
        this.shownPreview = large ?? undefined;
        if (!large)
            return;
        void this.parts.loadBlob(large).then((url) => {
            if (url && this.current === id)
                this.image.src = url;
        });
    }
}
