// The dashboard's small parts: sizes and durations for people, a transfer's rate, and the
// progress bar and disk meter the panels are drawn with.

import { el } from "./answers.js";

/** One copy or upload in flight: its bytes over time, for the rate and the time left. */
export interface Transfer {
  shot: number;
  done: number;
  total: number;
  /** `performance.now()` and bytes of the first progress seen. */
  firstAt: number;
  /** `performance.now()` of the latest progress. */
  lastAt: number;
  firstDone: number;
  /** Bytes per second since the first progress seen. */
  rate?: number;
}

export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** `75 s`, `4 min`, `2 h 5 min`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Shortest span a rate is worked out over: events come in batches from the engine's
 *  outbox, so the time between two of them says little. */
const RATE_AFTER_MS = 500;

/** The next state of a transfer after a progress event: the rate is the average since
 *  the first progress this page saw. */
export function advance(previous: Transfer | undefined, shot: number, done: number, total: number): Transfer {
  const now = performance.now();
  if (!previous || done < previous.done) return { shot, done, total, firstAt: now, lastAt: now, firstDone: done };
  const elapsed = now - previous.firstAt;
  const rate = elapsed >= RATE_AFTER_MS ? ((done - previous.firstDone) * 1000) / elapsed : undefined;
  return { ...previous, done, total, rate, lastAt: now };
}

/** A labelled progress bar with its figures: percent, bytes, rate and time left. */
export function progressBar(
  label: string,
  done: number,
  total: number,
  rate?: number,
  amount: (n: number) => string = bytes,
): HTMLElement {
  const percent = total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 100;
  const box = el("div", "progress");
  const bar = el("div", "bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-label", label);
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", String(percent));
  const fill = el("div", "fill");
  fill.style.width = `${percent}%`;
  bar.append(fill);
  const facts = [`${percent}%`, `${amount(done)} of ${amount(total)}`];
  if (rate !== undefined && rate > 0 && done < total) {
    facts.push(`${bytes(rate)}/s`, `${duration((total - done) / rate)} left`);
  }
  box.append(el("div", "facts", `${label}: ${facts.join(" · ")}`), bar);
  return box;
}

/** A disk's free space as a bar of the space used, with its figures. */
export function diskMeter(label: string, free: number, total: number, warn = false): HTMLElement {
  const box = el("div", "disk");
  const used = total > 0 ? Math.round((100 * (total - free)) / total) : 0;
  const meter = el("div", `meter${warn ? " warn" : ""}`);
  meter.setAttribute("role", "meter");
  meter.setAttribute("aria-label", `${label}: space used`);
  meter.setAttribute("aria-valuemin", "0");
  meter.setAttribute("aria-valuemax", "100");
  meter.setAttribute("aria-valuenow", String(used));
  const fill = el("div", "used");
  fill.style.width = `${used}%`;
  meter.append(fill);
  box.append(el("div", "facts", `${label}: ${bytes(free)} free of ${bytes(total)}`), meter);
  return box;
}

export function ago(at: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - at) / 1000));
  return seconds < 2 ? "just now" : `${duration(seconds)} ago`;
}
