// The gallery's grid: one tile per frame, newest first, each image's `alt` the frame's
// file name. Thumbnails are fetched with the guest's token (an <img> cannot send one)
// when their tile comes near the screen, a few at a time, and shown from `blob:` URLs; a
// frame without a preview, or whose preview cannot be had, shows a placeholder with its
// name. When the studio asks for a selection, each tile has a "Pick" button beside it.
/** An empty picture for frames with nothing to show (their name is shown over it). */
export const PLACEHOLDER = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 3 2'/%3E";
const PARALLEL = 6;
/** Newer first: by time, then by frame id. */
function newer(a, b) {
    return a.time !== b.time ? a.time > b.time : a.frame > b.frame;
}
export class Grid {
    constructor(list, load, open, pick) {
        this.list = list;
        this.load = load;
        this.open = open;
        this.pick = pick;
        this.tiles = new Map();
        this.order = [];
        this.queue = [];
        this.running = 0;
        if (typeof IntersectionObserver !== "undefined") {
            this.observer = new IntersectionObserver((entries) => {
                for (const entry of entries) {
                    if (!entry.isIntersecting)
                        continue;
                    const id = Number(entry.target.dataset.frame);
                    const tile = this.tiles.get(id);
                    if (tile)
                        this.want(tile);
                }
            }, { rootMargin: "600px 0px" });
        }
    }
    /** How many frames. */
    get size() {
        return this.tiles.size;
    }
    /** The frames, newest first. */
    frames() {
        return this.order.map((t) => t.frame);
    }
    /** One frame. */
    get(frame) {
        return this.tiles.get(frame)?.frame;
    }
    /** Show `frame` (once; a second `add` of the same frame only updates it); `arriving`
     *  slides it in. True when it was new. */
    add(frame, arriving) {
        const known = this.tiles.get(frame.frame);
        if (known) {
            const better = !known.frame.thumbnail && frame.thumbnail;
            known.frame = frame;
            if (better) {
                known.loaded = false;
                this.want(known);
            }
            return false;
        }
        const item = document.createElement("li");
        item.dataset.frame = String(frame.frame);
        if (arriving)
            item.className = "new";
        const button = document.createElement("button");
        button.type = "button";
        button.className = "tile";
        const image = document.createElement("img");
        image.alt = frame.name;
        image.decoding = "async";
        if (frame.width > 0 && frame.height > 0) {
            image.width = frame.width;
            image.height = frame.height;
        }
        button.append(image);
        button.addEventListener("click", () => this.open(frame.frame));
        const pick = document.createElement("button");
        pick.type = "button";
        pick.className = "pick";
        pick.textContent = "Pick";
        pick.setAttribute("aria-label", `Pick ${frame.name}`);
        pick.setAttribute("aria-pressed", "false");
        pick.hidden = true;
        pick.addEventListener("click", () => this.pick(frame.frame));
        item.append(button, pick);
        const tile = { frame, item, image, loaded: false, pick };
        this.tiles.set(frame.frame, tile);
        const at = this.order.findIndex((t) => newer(frame, t.frame));
        if (at < 0) {
            this.order.push(tile);
            this.list.append(item);
        }
        else {
            this.list.insertBefore(item, this.order[at].item);
            this.order.splice(at, 0, tile);
        }
        if (!frame.thumbnail) {
            this.placeholder(tile);
        }
        else if (this.observer) {
            this.observer.observe(item);
        }
        else {
            this.want(tile);
        }
        return true;
    }
    /** Show `badges` on `frame`'s tile (likes, comments, rating, label). */
    decorate(frame, badges) {
        const tile = this.tiles.get(frame);
        if (!tile)
            return;
        const button = tile.image.parentElement;
        if (!button)
            return;
        if (!tile.badges) {
            tile.badges = document.createElement("span");
            tile.badges.className = "badges";
            button.append(tile.badges);
        }
        const parts = [];
        const part = (text, label, className = "") => {
            const span = document.createElement("span");
            span.textContent = text;
            span.title = label;
            span.setAttribute("aria-label", label);
            if (className)
                span.className = className;
            parts.push(span);
        };
        if (badges.label)
            part("", `label ${badges.label}`, `label label-${badges.label}`);
        if (badges.rating)
            part(`★${badges.rating}`, `${badges.rating} stars`);
        if (badges.likes)
            part(`♥ ${badges.likes}`, `${badges.likes} likes`);
        if (badges.comments)
            part(`💬 ${badges.comments}`, `${badges.comments} comments`);
        tile.badges.replaceChildren(...parts);
        tile.pick.hidden = badges.picked === undefined;
        tile.pick.setAttribute("aria-pressed", String(badges.picked === true));
        tile.pick.textContent = badges.picked ? "Picked ✓" : "Pick";
        tile.item.classList.toggle("picked", badges.picked === true);
    }
    /** Show only the frames `keep` says; how many are shown. */
    filter(keep) {
        let shown = 0;
        for (const tile of this.order) {
            const ok = keep(tile.frame);
            tile.item.hidden = !ok;
            if (ok)
                shown++;
        }
        return shown;
    }
    /** Take every frame away (a closed gallery shows nothing). */
    clear() {
        this.observer?.disconnect();
        this.tiles.clear();
        this.order = [];
        this.queue.length = 0;
        this.list.replaceChildren();
    }
    placeholder(tile) {
        tile.loaded = true;
        tile.image.src = PLACEHOLDER;
        const button = tile.image.parentElement;
        if (!button || button.classList.contains("placeholder"))
            return;
        button.classList.add("placeholder");
        const caption = document.createElement("span");
        caption.className = "caption";
        caption.textContent = tile.frame.name;
        caption.setAttribute("aria-hidden", "true");
        button.append(caption);
    }
    want(tile) {
        if (tile.loaded || this.queue.includes(tile))
            return;
        this.queue.push(tile);
        this.pump();
    }
    pump() {
        while (this.running < PARALLEL && this.queue.length > 0) {
            const tile = this.queue.shift();
            if (!tile || tile.loaded || !this.tiles.has(tile.frame.frame))
                continue;
            const path = tile.frame.thumbnail;
            if (!path) {
                this.placeholder(tile);
                continue;
            }
            tile.loaded = true;
            this.running += 1;
            void this.load(path)
                .then((url) => {
                if (url) {
                    tile.image.src = url;
                }
                else if (!tile.retried) {
                    // Once more in a moment: the relay node may not have heard of it yet.
                    tile.retried = true;
                    tile.loaded = false;
                    window.setTimeout(() => this.want(tile), 2000);
                }
                else {
                    this.placeholder(tile);
                }
            })
                .finally(() => {
                this.running -= 1;
                this.pump();
            });
        }
    }
}
