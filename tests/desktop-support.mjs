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

// A small real JPEG (a 1×1 white pixel) with its own comment, so each frame differs.
export function jpeg(tag) {
  const head = Buffer.from("ffd8ffe000104a46494600010100000100010000", "hex");
  const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, tag.length + 2]), Buffer.from(tag)]);
  const body = Buffer.from(
    "ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9",
    "hex",
  );
  return Buffer.concat([head, comment, body]);
}
