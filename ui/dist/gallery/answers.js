// The guests' answers on a share: every rating, label, like, pick and comment, from the
// relay's answer log (so a late guest sees all of them, not the last few events) and then
// live. Each answer counts once, by its publish id. Per frame: each guest's latest
// rating, label, like and pick, and the comment thread; per guest, whether their
// selection is sent (locked) or the studio unlocked it. Names and comments are data,
// shown as text.
export const LABELS = ["red", "yellow", "green", "blue", "purple"];
export class Answers {
    constructor() {
        this.frames = new Map();
        this.seen = new Set();
        /** Each guest's picks: frame → their latest pick or unpick. */
        this.picks = new Map();
        /** Each guest's selection: sent (locked) or unlocked, as of when. */
        this.sent = new Map();
    }
    /** Take one answer; the frame it is about, or undefined when it was known or is none.
     *  A `provisional` one is this page's own, shown before the relay's copy comes back
     *  (stamped, cleaned, with the relay's time), which then takes its place. */
    apply(entry, provisional = false) {
        const { type, payload } = entry.event;
        if (!type.startsWith("gallery_") || type === "gallery_frame")
            return undefined;
        if (this.seen.has(entry.id))
            return undefined;
        if (type === "gallery_submit" || type === "gallery_unlock") {
            if (!provisional)
                this.seen.add(entry.id);
            const who = type === "gallery_submit" ? String(payload.sub ?? "") : String(payload.guest ?? "");
            const known = this.sent.get(who);
            // This page's own submit is timed 0 until the relay's copy (with the relay's time)
            // comes back: the browser's clock never orders it after the studio's unlock.
            const ts = provisional ? 0 : entry.ts;
            if (!known || known.ts <= ts || known.id === entry.id) {
                this.sent.set(who, { locked: type === "gallery_submit", ts, id: entry.id });
            }
            return undefined;
        }
        const frame = Number(payload.frame);
        if (!Number.isFinite(frame))
            return undefined;
        if (!provisional)
            this.seen.add(entry.id);
        const sub = String(payload.sub ?? "anonymous");
        const name = String(payload.name ?? "A guest");
        const answers = this.of(frame);
        const mark = (map, value) => {
            const known = map.get(sub);
            if (!known || known.ts <= entry.ts || known.id === entry.id) {
                map.set(sub, { value, name, ts: entry.ts, id: entry.id });
            }
        };
        switch (type) {
            case "gallery_rating":
                mark(answers.ratings, Number(payload.stars));
                break;
            case "gallery_label":
                mark(answers.labels, String(payload.label));
                break;
            case "gallery_like":
                mark(answers.likes, payload.liked === true);
                break;
            case "gallery_pick": {
                let mine = this.picks.get(sub);
                if (!mine) {
                    mine = new Map();
                    this.picks.set(sub, mine);
                }
                const known = mine.get(frame);
                if (!known || known.ts <= entry.ts || known.id === entry.id) {
                    mine.set(frame, { value: payload.picked === true, name, ts: entry.ts, id: entry.id });
                }
                break;
            }
            case "gallery_comment": {
                const comment = { id: entry.id, sub, name, text: String(payload.text ?? ""), ts: entry.ts };
                const at = answers.comments.findIndex((c) => c.id === entry.id);
                if (at >= 0)
                    answers.comments[at] = comment;
                else
                    answers.comments.push(comment);
                answers.comments.sort((a, b) => a.ts - b.ts);
                break;
            }
            default:
                return undefined;
        }
        return frame;
    }
    of(frame) {
        let answers = this.frames.get(frame);
        if (!answers) {
            answers = { ratings: new Map(), labels: new Map(), likes: new Map(), comments: [] };
            this.frames.set(frame, answers);
        }
        return answers;
    }
    /** How many like it now. */
    likes(frame) {
        let n = 0;
        for (const like of this.of(frame).likes.values())
            if (like.value)
                n++;
        return n;
    }
    /** The latest rating any guest gave (what the studio's sidecar says). */
    rating(frame) {
        return latest(this.of(frame).ratings)?.value;
    }
    /** The latest label any guest gave. */
    label(frame) {
        const l = latest(this.of(frame).labels)?.value;
        return l === "none" ? undefined : l;
    }
    /** The frames `sub` has picked now, in the order they were picked. */
    picked(sub) {
        const mine = this.picks.get(sub);
        if (!mine)
            return [];
        return [...mine.entries()]
            .filter(([, m]) => m.value)
            .sort((a, b) => a[1].ts - b[1].ts)
            .map(([frame]) => frame);
    }
    /** Has `sub` picked `frame`? */
    isPicked(sub, frame) {
        return this.picks.get(sub)?.get(frame)?.value === true;
    }
    /** Is `sub`'s selection sent (and not unlocked since)? */
    isLocked(sub) {
        return this.sent.get(sub)?.locked === true;
    }
    /** Did `sub` answer `frame` at all? */
    answeredBy(frame, sub) {
        const a = this.of(frame);
        return a.ratings.has(sub) || a.labels.has(sub) || a.likes.has(sub) || a.comments.some((c) => c.sub === sub);
    }
}
function latest(map) {
    let best;
    for (const mark of map.values())
        if (!best || mark.ts >= best.ts)
            best = mark;
    return best;
}
