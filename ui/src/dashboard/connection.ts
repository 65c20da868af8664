// The dashboard's link to the relay: WebSocket first; Server-Sent Events, then HTTP
// long-polling when WebSocket fails; back to WebSocket when it recovers. Every transport
// resumes each channel from the last offset seen (with its epoch), and events are
// de-duplicated by offset and by publisher id, so a reconnect never shows an event twice
// and, while the relay still holds them, never loses one.

import type { Event } from "../generated/Event";
import type { RelayFrame } from "../generated/RelayFrame";
import type { ClientFrame } from "../generated/ClientFrame";

/** How the dashboard is connected right now. */
export type Mode = "connecting" | "realtime" | "fallback" | "offline";

/** One event frame from the relay. */
export type EventFrame = Extract<RelayFrame, { type: "event" }>;

/** The link's figures, for the connection panel. */
export interface Stats {
  /** The transport carrying events now, if any. */
  transport: "websocket" | "sse" | "polling" | "none";
  /** Round trip of the last `ping` answered over WebSocket, in ms. */
  rttMs?: number;
  /** Times the link came back after it had been up. */
  reconnects: number;
  /** When the last event arrived (`Date.now()`). */
  lastEventAt?: number;
  /** When the next WebSocket attempt is due, while waiting out a backoff. */
  nextTryAt?: number;
  /** Closed on purpose (a hidden tab) until `resume`. */
  suspended: boolean;
}

/** What the connection tells the page. */
export interface Handlers {
  /** The latest event of each type on a channel (on every (re)subscribe). */
  snapshot(channel: string, events: Event[]): void;
  /** A new event, once. */
  event(frame: EventFrame): void;
  /** The connection mode changed; `detail` says more for people. */
  mode(mode: Mode, detail: string): void;
  /** Events may be lost for good: the relay trimmed its history past what this page
   *  saw (`trimmed`), or it restarted with a new history (`restarted`). */
  gap(channel: string, why: "trimmed" | "restarted"): void;
  /** The relay will not take this token again (revoked, expired, cut off by the
   *  studio); the connection has stopped. */
  refused?(detail: string): void;
  /** The link's figures changed. */
  stats?(stats: Stats): void;
  /** The relay turned this page away for now (`code`: `too_many_connections`,
   *  `overloaded`, …); the connection keeps retrying with backoff. */
  busy?(code: string, message: string): void;
}

interface ChannelState {
  epoch?: string;
  offset: number;
  /** A second subscribe on the same WebSocket (after an epoch change) is on its way:
   *  events until its `subscribed` are from the first. Cleared by any `subscribed` (a new
   *  connection's first frame for a channel is always its `subscribed`). */
  awaiting: boolean;
  seen: Set<string>;
  order: string[];
}

const SEEN_IDS = 5000;
/** The relay's close code for a connection an admin cut off (or whose token was revoked). */
const CLOSE_DISCONNECTED = 4003;
/** Refusals no retry can fix: the token itself is no good. */
const FINAL = new Set(["revoked", "token_expired", "unauthorized"]);
const MAX_BACKOFF_MS = 30_000;
/** How often an open WebSocket is pinged, to measure its round trip. */
const PING_EVERY_MS = 15_000;

/** Full jitter: a random delay up to `base * 2^attempt`, capped. */
export function backoff(attempt: number, base = 500): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, base * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export class RelayConnection {
  private readonly channels = new Map<string, ChannelState>();
  private ws?: WebSocket;
  private wsFailures = 0;
  private wsTimer?: number;
  private sources = new Map<string, EventSource>();
  private polling = false;
  private pollAbort?: AbortController;
  /** Channels whose long-poll is failing: the link is down when all are. */
  private pollFailing = new Set<string>();
  /** SSE reopen timers, cleared with the fallbacks. */
  private readonly sseTimers = new Set<number>();
  private sseFailures = 0;
  private mode: Mode = "connecting";
  private stopped = false;
  /** Stopped for good: the relay will not take the token again. */
  private final = false;
  /** The link has been up once: the next time it comes up is a reconnect. */
  private wasUp = false;
  private pingTimer?: number;
  private pingSentAt?: number;
  private readonly figures: Stats = { transport: "none", reconnects: 0, suspended: false };

  constructor(
    private readonly origin: string,
    private readonly token: string,
    channels: string[],
    private readonly on: Handlers,
  ) {
    for (const channel of channels) {
      this.channels.set(channel, { offset: 0, awaiting: false, seen: new Set(), order: [] });
    }
  }

  /** Connect; reconnects on its own until `stop`. */
  start(): void {
    this.openWebSocket();
  }

  /** Close everything. */
  stop(): void {
    this.stopped = true;
    const ws = this.ws;
    this.ws = undefined;
    ws?.close();
    this.stopFallback();
    window.clearTimeout(this.wsTimer);
    window.clearInterval(this.pingTimer);
    this.figures.nextTryAt = undefined;
    this.transport("none");
  }

  /** The figures as they are now. */
  stats(): Stats {
    return { ...this.figures };
  }

  /** Try again now, skipping the backoff; a link that is up is re-made. Each channel
   *  resumes from its offset, so nothing is lost or shown twice. */
  reconnect(): void {
    if (this.final) return;
    this.figures.suspended = false;
    this.stop();
    this.stopped = false;
    this.figures.suspended = false;
    this.wsFailures = 0;
    this.sseFailures = 0;
    this.setMode("connecting", "reconnecting now");
    this.openWebSocket();
  }

  /** Close the link on purpose (a tab hidden for a while); `resume` re-opens it. */
  suspend(detail: string): void {
    if (this.final || this.figures.suspended) return;
    this.stop();
    this.figures.suspended = true;
    this.setMode("offline", detail);
    this.changed();
  }

  /** Re-open a suspended link, resuming each channel from its offset. */
  resume(): void {
    if (this.figures.suspended) this.reconnect();
  }

  private changed(): void {
    this.on.stats?.(this.stats());
  }

  private transport(transport: Stats["transport"]): void {
    if (transport !== "none") {
      if (this.figures.transport === "none" && this.wasUp) this.figures.reconnects += 1;
      this.wasUp = true;
    }
    if (transport !== "websocket") this.figures.rttMs = undefined;
    this.figures.transport = transport;
    this.changed();
  }

  /** The relay will not take this token again: stop, and say what to do. */
  private refused(detail: string): void {
    this.stop();
    this.final = true;
    this.setMode("offline", detail);
    this.on.refused?.(detail);
  }

  private setMode(mode: Mode, detail: string): void {
    this.mode = mode;
    this.on.mode(mode, detail);
  }

  private url(path: string, query: Record<string, string | number | undefined>): string {
    const url = new URL(path, this.origin);
    url.searchParams.set("token", this.token);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  // ---- WebSocket ---------------------------------------------------------------------

  private openWebSocket(): void {
    if (this.stopped) return;
    this.figures.nextTryAt = undefined;
    const url = this.url("/v1/ws", {}).replace(/^http/, "ws");
    let opened = false; // true once the relay answered
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.webSocketFailed(false);
      return;
    }
    this.ws = ws;
    const openTimeout = window.setTimeout(() => {
      if (!opened) ws.close();
    }, 5000);
    ws.onopen = () => {
      window.clearTimeout(openTimeout);
      for (const [channel, state] of this.channels) {
        const frame: ClientFrame =
          state.epoch === undefined
            ? { type: "subscribe", channel, since: state.offset }
            : { type: "subscribe", channel, since: state.offset, epoch: state.epoch };
        ws.send(JSON.stringify(frame));
      }
    };
    ws.onmessage = (message) => {
      if (!opened) {
        // Only a relay that answers counts: a proxy may accept the upgrade and drop it.
        opened = true;
        this.wsFailures = 0;
        this.stopFallback();
        this.setMode("realtime", "live over WebSocket");
        this.transport("websocket");
        this.ping(ws);
        window.clearInterval(this.pingTimer);
        this.pingTimer = window.setInterval(() => this.ping(ws), PING_EVERY_MS);
      }
      let frame: RelayFrame;
      try {
        frame = JSON.parse(String(message.data)) as RelayFrame;
      } catch {
        return;
      }
      if (frame.type === "pong") {
        if (this.pingSentAt !== undefined) {
          this.figures.rttMs = performance.now() - this.pingSentAt;
          this.pingSentAt = undefined;
          this.changed();
        }
        return;
      }
      this.frame(frame, (channel, epoch) => {
        const again: ClientFrame = { type: "subscribe", channel, since: 0, epoch };
        ws.send(JSON.stringify(again));
      });
    };
    ws.onclose = (event) => {
      window.clearTimeout(openTimeout);
      if (this.ws !== ws) return; // closed on purpose, or replaced
      this.ws = undefined;
      window.clearInterval(this.pingTimer);
      if (this.figures.transport === "websocket") this.transport("none");
      if (event.code === CLOSE_DISCONNECTED) {
        this.refused("disconnected by the studio, or the link was revoked: ask the studio for a new link");
        return;
      }
      this.webSocketFailed(opened);
    };
  }

  private webSocketFailed(hadOpened: boolean): void {
    if (this.stopped) return;
    this.wsFailures = hadOpened ? 1 : this.wsFailures + 1;
    const delay = backoff(this.wsFailures);
    if (this.wsFailures >= 2 || !hadOpened) {
      // WebSocket does not get through: use the HTTP fallbacks meanwhile.
      this.startFallback();
    } else {
      this.setMode("connecting", "reconnecting");
    }
    window.clearTimeout(this.wsTimer);
    this.wsTimer = window.setTimeout(() => this.openWebSocket(), delay);
    this.figures.nextTryAt = Date.now() + delay;
    this.changed();
  }

  private ping(ws: WebSocket): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    const frame: ClientFrame = { type: "ping" };
    this.pingSentAt = performance.now();
    ws.send(JSON.stringify(frame));
  }

  // ---- Frames ------------------------------------------------------------------------

  /** Act on one frame; `restart` re-reads a channel from 0 in a new epoch. */
  private frame(frame: RelayFrame, restart: (channel: string, epoch: string) => void): void {
    if (frame.type === "subscribed") {
      const state = this.channels.get(frame.channel);
      if (!state) return;
      state.awaiting = false;
      this.on.snapshot(frame.channel, frame.snapshot);
      if (state.epoch !== undefined && state.epoch !== frame.epoch) {
        // A new history generation: what came before is gone; read the new one from
        // its start (ids already shown are skipped).
        state.epoch = frame.epoch;
        state.offset = 0;
        this.on.gap(frame.channel, "restarted");
        state.awaiting = true;
        restart(frame.channel, frame.epoch);
        return;
      }
      if (!frame.recovered && state.epoch !== undefined && state.offset < frame.offset) {
        this.on.gap(frame.channel, "trimmed");
      }
      state.epoch = frame.epoch;
    } else if (frame.type === "event") {
      this.accept(frame);
    }
  }

  private accept(frame: EventFrame): void {
    const state = this.channels.get(frame.channel);
    if (!state || state.awaiting || frame.offset <= state.offset) return;
    state.offset = frame.offset;
    if (state.seen.has(frame.id)) return;
    state.seen.add(frame.id);
    state.order.push(frame.id);
    this.figures.lastEventAt = Date.now();
    if (state.order.length > SEEN_IDS) {
      const old = state.order.shift();
      if (old !== undefined) state.seen.delete(old);
    }
    this.on.event(frame);
  }

  // ---- Fallbacks ---------------------------------------------------------------------

  private startFallback(): void {
    if (this.stopped || this.sources.size > 0 || this.polling) {
      if (this.mode !== "fallback") this.setMode("offline", "relay unreachable; retrying");
      return;
    }
    if (typeof EventSource !== "undefined" && this.sseFailures < 3) {
      this.openEventSources();
    } else {
      this.startPolling();
    }
  }

  private stopFallback(): void {
    for (const source of this.sources.values()) source.close();
    this.sources.clear();
    for (const timer of this.sseTimers) window.clearTimeout(timer);
    this.sseTimers.clear();
    this.pollFailing.clear();
    this.polling = false;
    this.pollAbort?.abort();
    this.pollAbort = undefined;
  }

  private openEventSources(): void {
    for (const channel of this.channels.keys()) this.openEventSource(channel);
  }

  private openEventSource(channel: string): void {
    const state = this.channels.get(channel);
    if (!state) return;
    const source = new EventSource(
      this.url(`/v1/channels/${encodeURIComponent(channel)}/sse`, {
        since: state.offset,
        epoch: state.epoch,
      }),
    );
    this.sources.set(channel, source);
    let opened = false;
    const onFrame = (message: MessageEvent) => {
      let frame: RelayFrame;
      try {
        frame = JSON.parse(String(message.data)) as RelayFrame;
      } catch {
        return;
      }
      this.frame(frame, () => {
        source.close();
        this.openEventSource(channel);
      });
    };
    source.addEventListener("subscribed", onFrame as EventListener);
    source.addEventListener("event", onFrame as EventListener);
    source.onopen = () => {
      opened = true;
      this.sseFailures = 0;
      this.setMode("fallback", "live over Server-Sent Events");
      if (this.figures.transport !== "sse") this.transport("sse");
    };
    source.onerror = () => {
      if (this.sources.get(channel) !== source) return;
      // EventSource retries by itself, resuming with Last-Event-ID; reopen ourselves
      // so that the epoch goes along, and give up on SSE when it never gets through.
      source.close();
      this.sources.delete(channel);
      if (this.figures.transport === "sse" && this.sources.size === 0) this.transport("none");
      if (!opened) this.sseFailures += 1;
      this.setMode("offline", "relay unreachable; retrying");
      if (this.sseFailures >= 3) {
        this.stopFallback();
        this.startPolling();
        return;
      }
      const timer = window.setTimeout(() => {
        this.sseTimers.delete(timer);
        if (!this.stopped && this.mode !== "realtime" && !this.sources.has(channel)) {
          this.openEventSource(channel);
        }
      }, backoff(this.sseFailures));
      this.sseTimers.add(timer);
    };
  }

  private startPolling(): void {
    if (this.polling || this.stopped) return;
    this.polling = true;
    this.pollAbort = new AbortController();
    for (const channel of this.channels.keys()) void this.poll(channel, this.pollAbort.signal);
  }

  private async poll(channel: string, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (this.polling && !signal.aborted) {
      const state = this.channels.get(channel);
      if (!state) return;
      try {
        const response = await fetch(
          this.url(`/v1/channels/${encodeURIComponent(channel)}/events`, {
            since: state.offset,
            wait: 25,
          }),
          { signal, cache: "no-store" },
        );
        if (response.status === 401) {
          const refusal = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
          if (refusal.code && FINAL.has(refusal.code)) {
            this.refused(refusal.message ?? refusal.code);
            return;
          }
        }
        if (response.status === 429 || response.status === 503) {
          const refusal = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
          if (refusal.code) this.on.busy?.(refusal.code, refusal.message ?? refusal.code);
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = (await response.json()) as {
          epoch: string;
          offset: number;
          events: EventFrame[];
        };
        failures = 0;
        this.pollFailing.delete(channel);
        this.setMode("fallback", "live over HTTP polling");
        if (this.figures.transport !== "polling") this.transport("polling");
        if (state.epoch !== undefined && state.epoch !== body.epoch) {
          state.epoch = body.epoch;
          state.offset = 0;
          this.on.gap(channel, "restarted");
          continue;
        }
        state.epoch = body.epoch;
        state.awaiting = false;
        const first = body.events[0];
        if (first && first.offset > state.offset + 1 && state.offset > 0) {
          this.on.gap(channel, "trimmed");
        }
        for (const frame of body.events) this.accept(frame);
      } catch {
        if (signal.aborted) return;
        failures += 1;
        this.setMode("offline", "relay unreachable; retrying");
        this.pollFailing.add(channel);
        if (this.figures.transport === "polling" && this.pollFailing.size === this.channels.size) {
          this.transport("none");
        }
        await new Promise((resolve) => window.setTimeout(resolve, backoff(failures)));
      }
    }
  }
}
