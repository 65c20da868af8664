// The guests' answers on the studio's open shares, for the dashboard: which shares are
// open (`GET /v1/shares`, looked at again every minute), each share's frames (its state
// on the relay) and its whole answer log, then every new answer live. Per frame: the
// latest rating and label any guest gave, how many like it, and the comment thread with
// names and times, the most recently answered frame first. Names and comments are data,
// shown as text.

import { Answers, type Entry } from "../gallery/answers.js";
import { RelayConnection, type EventFrame } from "./connection.js";

const MAX_FRAMES = 50;
const COMMENTS_SHOWN = 3;
const LOOK_AGAIN_MS = 60_000;

interface ShareInfo {
  id: string;
  channel: string;
  title?: string | null;
}

interface Shared {
  info: ShareInfo;
  answers: Answers;
  /** Frame names from the share's state and its `gallery_frame` events. */
  names: Map<number, string>;
  /** When each frame was last answered (ms), for the order. */
  answered: Map<number, number>;
  box?: HTMLElement;
}

/** A new element with a class and text (text, never HTML). */
export function el(tag: string, className = "", text = ""): HTMLElement {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/** The answers panel: `#answers` on the page. */
export class AnswersPanel {
  private readonly shares = new Map<string, Shared>();
  private connection?: RelayConnection;
  private timer?: number;
  /** A look is under way: the next waits for the minute after. */
  private looking = false;

  constructor(
    private readonly origin: string,
    private readonly token: string,
    private readonly root: HTMLElement,
  ) {}

  start(): void {
    void this.lookForShares();
    this.timer = window.setInterval(() => void this.lookForShares(), LOOK_AGAIN_MS);
  }

  stop(): void {
    window.clearInterval(this.timer);
    this.connection?.stop();
  }

  /** A hidden tab: stop looking for shares and let the link go. */
  suspend(detail: string): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
    this.connection?.suspend(detail);
  }

  /** Shown again: look for shares again, and resume the link from its offsets. */
  resume(): void {
    if (this.timer !== undefined) return;
    this.connection?.resume();
    this.start();
  }

  /** Try the link again now (Reconnect, or back online). */
  reconnect(): void {
    this.connection?.reconnect();
  }

  private async get<T>(path: string): Promise<T | undefined> {
    try {
      const response = await fetch(`${this.origin}${path}`, {
        headers: { authorization: `Bearer ${this.token}` },
        cache: "no-cache",
      });
      return response.ok ? ((await response.json()) as T) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The open shares now: new ones are loaded and listened to; closed ones go. A share
   *  whose state or log could not be read is tried again at the next look. */
  private async lookForShares(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    try {
      const listed = await this.get<{ shares: ShareInfo[] }>("/v1/shares");
      if (!listed) return;
      const open = new Set(listed.shares.map((s) => s.id));
      let changed = false;
      for (const [id, shared] of this.shares) {
        if (!open.has(id)) {
          shared.box?.remove();
          this.shares.delete(id);
          changed = true;
        }
      }
      for (const info of listed.shares) {
        if (this.shares.has(info.id)) continue;
        const shared: Shared = { info, answers: new Answers(), names: new Map(), answered: new Map() };
        if (!(await this.loadState(shared)) || !(await this.loadAnswers(shared))) continue;
        this.shares.set(info.id, shared);
        changed = true;
        this.render(shared);
      }
      if (changed) this.listen();
      this.renderEmpty();
    } finally {
      this.looking = false;
    }
  }

  /** The share's frames (their names); false when it could not be read. */
  private async loadState(shared: Shared): Promise<boolean> {
    const path = `/v1/blobs/${encodeURIComponent(shared.info.channel)}/state.json`;
    try {
      const response = await fetch(`${this.origin}${path}`, {
        headers: { authorization: `Bearer ${this.token}` },
        cache: "no-cache",
      });
      if (response.status === 404) return true; // nothing shared yet
      if (!response.ok) return false;
      const state = (await response.json()) as { frames?: { frame: number; name: string }[] };
      for (const frame of state.frames ?? []) shared.names.set(frame.frame, frame.name);
      return true;
    } catch {
      return false;
    }
  }

  /** The share's whole answer log, a page at a time (`next` is where the next page
   *  starts); false when it could not be read to the end. */
  private async loadAnswers(shared: Shared): Promise<boolean> {
    let after = 0;
    for (;;) {
      const body = await this.get<{ answers: Entry[]; total: number; next: number }>(
        `/v1/shares/${encodeURIComponent(shared.info.id)}/answers?after=${after}`,
      );
      if (!body) return false;
      for (const entry of body.answers) this.take(shared, entry);
      if (body.next <= after || body.next >= body.total) return true;
      after = body.next;
    }
  }

  private take(shared: Shared, entry: Entry): number | undefined {
    const frame = shared.answers.apply(entry);
    if (frame !== undefined) {
      shared.answered.set(frame, Math.max(shared.answered.get(frame) ?? 0, entry.ts));
    }
    return frame;
  }

  /** One live connection over every open share's channel. */
  private listen(): void {
    this.connection?.stop();
    const channels = [...this.shares.values()].map((s) => s.info.channel);
    if (channels.length === 0) return;
    const byChannel = new Map([...this.shares.values()].map((s) => [s.info.channel, s]));
    this.connection = new RelayConnection(this.origin, this.token, channels, {
      snapshot() {},
      event: (frame: EventFrame) => {
        const shared = byChannel.get(frame.channel);
        if (!shared) return;
        const event = frame.event;
        if (event.type === "gallery_frame") {
          shared.names.set(event.payload.frame, event.payload.name);
          this.render(shared);
        } else if (this.take(shared, { id: frame.id, ts: frame.ts, event } as Entry) !== undefined) {
          this.render(shared);
        }
      },
      mode() {},
      gap: (channel) => {
        // Past the relay's history: the answer log has everything.
        const shared = byChannel.get(channel);
        if (shared) void this.loadAnswers(shared).then(() => this.render(shared));
      },
    });
    this.connection.start();
  }

  private renderEmpty(): void {
    const empty = this.root.querySelector<HTMLElement>(".empty");
    if (!empty) return;
    const any = [...this.shares.values()].some((s) => s.answered.size > 0);
    empty.hidden = any;
    empty.textContent =
      this.shares.size === 0 ? "No open share. Share a session to see its guests' answers here." : "No answers yet.";
  }

  private render(shared: Shared): void {
    if (this.shares.get(shared.info.id) !== shared) return; // closed meanwhile
    const title = shared.info.title?.trim() || `Share ${shared.info.id}`;
    if (!shared.box) {
      shared.box = el("div", "share");
      shared.box.dataset.share = shared.info.id;
      shared.box.setAttribute("role", "region");
      shared.box.setAttribute("aria-label", `Answers on ${title}`);
      this.root.append(shared.box);
    }
    const frames = [...shared.answered.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_FRAMES);
    const list = el("ul", "answered");
    for (const [frame] of frames) list.append(this.frameItem(shared, frame));
    const heading = el("h3", "", title);
    shared.box.replaceChildren(heading, list);
    shared.box.hidden = frames.length === 0;
    this.renderEmpty();
  }

  private frameItem(shared: Shared, frame: number): HTMLElement {
    const { answers } = shared;
    const name = shared.names.get(frame) ?? `frame ${frame}`;
    const rating = answers.rating(frame);
    const label = answers.label(frame);
    const likes = answers.likes(frame);
    const comments = answers.of(frame).comments;
    const item = el("li", "answer");
    item.dataset.frame = String(frame);
    const facts: string[] = [];
    if (rating !== undefined && rating > 0) facts.push(`rated ${rating}`);
    if (label) facts.push(`label ${label}`);
    if (likes > 0) facts.push(likes === 1 ? "1 like" : `${likes} likes`);
    if (comments.length > 0) facts.push(comments.length === 1 ? "1 comment" : `${comments.length} comments`);
    item.setAttribute("aria-label", `${name}: ${facts.join(", ") || "no answer"}`);
    item.append(el("strong", "name", name));
    if (rating !== undefined && rating > 0) {
      const stars = el("span", "stars", "★".repeat(rating));
      stars.dataset.rating = String(rating);
      item.append(stars);
    }
    if (label) {
      const badge = el("span", `badge label-${label}`, label);
      badge.dataset.label = label;
      item.append(badge);
    }
    if (likes > 0) {
      const liked = el("span", "likes", `♥ ${likes}`);
      liked.dataset.likes = String(likes);
      item.append(liked);
    }
    if (comments.length > 0) {
      const thread = el("ol", "comments");
      for (const comment of comments.slice(-COMMENTS_SHOWN)) {
        const line = el("li", "comment");
        line.append(
          el("span", "who", comment.name),
          el("span", "muted", ` ${new Date(comment.ts).toLocaleTimeString()} `),
          el("span", "text", comment.text),
        );
        thread.append(line);
      }
      if (comments.length > COMMENTS_SHOWN) {
        thread.append(el("li", "muted", `and ${comments.length - COMMENTS_SHOWN} earlier`));
      }
      item.append(thread);
    }
    return item;
  }
}
