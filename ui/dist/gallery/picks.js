// "Choose N" on the gallery page: when the studio asks each guest for a selection (between
// a minimum and a maximum of frames), every frame has a "Pick" button, the bar says how
// many are picked ("12 of 20"), and "Send my selection" sends it once the count is within
// bounds. A sent selection is locked (the relay refuses more picks) until the studio
// unlocks it; the page says so.
import { $ } from "./dom.js";
export class Selection {
    constructor(parts) {
        this.parts = parts;
        $("send-selection").addEventListener("click", () => void this.submit());
    }
    /** The studio asks for `choose` (or nothing). */
    configure(choose) {
        this.choose = choose && choose.max > 0 ? choose : undefined;
        $("selection").hidden = this.choose === undefined;
        this.render();
    }
    /** Is a selection asked for? */
    get active() {
        return this.choose !== undefined;
    }
    /** Has this guest picked `frame`? (undefined: no selection is asked for.) */
    picked(frame) {
        if (!this.choose)
            return undefined;
        const me = this.parts.me();
        return me !== undefined && this.parts.answers.isPicked(me, frame);
    }
    /** Is this guest's selection sent and locked? */
    locked() {
        const me = this.parts.me();
        return me !== undefined && this.parts.answers.isLocked(me);
    }
    /** Pick `frame`, or take it back. */
    async toggle(frame) {
        const choose = this.choose;
        if (!choose)
            return;
        if (this.locked()) {
            this.parts.say("Your selection is sent, so it cannot change now: ask the studio to unlock it.");
            return;
        }
        const picked = this.picked(frame) === true;
        const me = this.parts.me();
        const count = me === undefined ? 0 : this.parts.answers.picked(me).length;
        if (!picked && count >= choose.max) {
            this.parts.say(`You have picked ${choose.max}, the most you can: take one back to pick this one.`);
            return;
        }
        if (await this.parts.send("gallery_pick", { frame, picked: !picked })) {
            this.parts.changed(frame);
            this.render();
        }
    }
    async submit() {
        const choose = this.choose;
        const me = this.parts.me();
        if (!choose || me === undefined || this.locked())
            return;
        const n = this.parts.answers.picked(me).length;
        if (n < choose.min || n > choose.max)
            return;
        if (await this.parts.send("gallery_submit", { picked: n }))
            this.render();
    }
    /** Show the count, the button's state and whether the selection is sent. */
    render() {
        const choose = this.choose;
        if (!choose)
            return;
        const me = this.parts.me();
        const n = me === undefined ? 0 : this.parts.answers.picked(me).length;
        const wanted = choose.min === choose.max ? `${choose.max}` : `${choose.min}–${choose.max}`;
        $("pick-count").textContent = `${n} of ${wanted}`;
        const locked = this.locked();
        const button = $("send-selection");
        button.disabled = locked || me === undefined || n < choose.min || n > choose.max;
        button.hidden = locked;
        $("selection-state").textContent = locked
            ? "Selection sent: the studio has it. To change it, ask the studio to unlock it."
            : n < choose.min
                ? `Pick ${choose.min - n} more to send your selection.`
                : "";
        for (const b of document.querySelectorAll("button.pick")) {
            b.disabled = locked;
        }
    }
}
