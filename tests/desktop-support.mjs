// Helpers of the desktop app's end-to-end tests: the helper processes (each leads a
// process group of its own, stopped together), waiting for a condition, and a W3C
// WebDriver client over plain HTTP (no client library).

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const children = [];
// Each helper leads a process group of its own (detached), so what it starts (tauri-driver
// starts WebKitWebDriver, which starts the app) is stopped with it by that group's id.
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, ...opts });
  child.output = "";
  child.stdout.on("data", (d) => { child.output += d; });
  child.stderr.on("data", (d) => { child.output += d; });
  children.push(child);
  return child;
}
// Stop the helpers (after the WebDriver session has closed the app) and let go of their
// pipes even if a grandchild still holds one.
export function stopAll() {
  for (const c of children.reverse()) {
    try { process.kill(-c.pid, "SIGTERM"); } catch { /* the group is gone already */ }
    c.stdout.destroy();
    c.stderr.destroy();
  }
}

export const freePort = () => new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until `check` gives something true; `output()` is shown when it never does. */
export async function until(what, check, ms, output) {
  const start = Date.now();
  let last;
  while (Date.now() - start < ms) {
    try { last = await check(); if (last) return last; } catch (e) { last = e; }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})\napp: ${output?.()?.slice(-4000)}`);
}

/** A WebDriver client for the server at `base`; screenshots go to `shots` when set. */
export function webdriver(base, shots) {
  let sid;
  async function wd(method, url, body) {
    const res = await fetch(base + url, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${url}: ${JSON.stringify(json.value)}`);
    return json.value;
  }
  const js = (script, ...args) => wd("POST", `/session/${sid}/execute/sync`, { script, args });
  /** An async script: it calls its last argument with the result. */
  const jsAsync = (script, ...args) => wd("POST", `/session/${sid}/execute/async`, { script, args });
  const find = async (css) => {
    const el = await wd("POST", `/session/${sid}/element`, { using: "css selector", value: css });
    return Object.values(el)[0];
  };
  // Scrolled to the middle first: the window's sticky header would cover an element the
  // driver scrolls only just into view, and the click would land on the header.
  const click = async (css) => {
    const id = await find(css);
    await js("const e = document.querySelector(arguments[0]); (e.closest('select') ?? e).scrollIntoView({ block: 'center' });", css);
    return wd("POST", `/session/${sid}/element/${id}/click`, {});
  };
  async function type(css, text) {
    const id = await find(css);
    await wd("POST", `/session/${sid}/element/${id}/clear`, {});
    await wd("POST", `/session/${sid}/element/${id}/value`, { text });
  }
  async function screenshot(name) {
    if (!shots) return;
    const png = await wd("GET", `/session/${sid}/screenshot`);
    fs.mkdirSync(shots, { recursive: true });
    fs.writeFileSync(path.join(shots, name), Buffer.from(png, "base64"));
  }
  const bindSession = (id) => { sid = id; };
  return { wd, js, jsAsync, find, click, type, screenshot, bindSession };
}
