// What the end-to-end suites share: the binaries under test, processes started and
// stopped by their own PIDs, temporary folders removed at the end, free loopback ports,
// waiting for a condition, relay tokens, a real Redis, and Debian's Chromium.

import { after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

/** Where `cargo xtask test` put the binaries (SHOTLINE_BIN_DIR), else a debug build. */
export const binDir = process.env.SHOTLINE_BIN_DIR ?? join(process.cwd(), "..", "target", "debug");
export const RELAY = join(binDir, "shotline-relay");
export const SHOTLINE = join(binDir, "shotline");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const children = new Set();
/** Folders removed when the suite ends. */
export const dirs = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary folder, removed when the suite ends. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A free port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Start `command`; its output gathers in `child.output`; killed when the suite ends. */
export function start(command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.output = "";
  child.stdout.on("data", (d) => (child.output += d));
  child.stderr.on("data", (d) => (child.output += d));
  child.on("exit", () => children.delete(child));
  return child;
}

/** Kill `child` (by its PID) and wait until it is gone. */
export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGKILL");
  });
}

/** Wait until `check()` is truthy, or fail naming `what`; what it gave. */
export async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when the relay on `port` answers `/health` with 200. */
export async function healthy(port) {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

/** A token from `shotline-relay token`, signed with `secret`. */
export function mint(secret, role, channels, extra = []) {
  return execFileSync(RELAY, ["token", "--role", role, "--channels", channels, "--ttl", "1h", ...extra], {
    env: { ...process.env, SHOTLINE_RELAY_SECRET: secret },
  })
    .toString()
    .trim()
    .split("\n")
    .pop();
}

/** Debian's Chromium, headless. */
export async function launchChromium() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run cargo xtask setup (apt chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** A real `redis-server` on a free loopback port, keeping nothing on disk; stop `child`. */
export async function redisServer() {
  const port = await freePort();
  const child = start("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  await until("redis", async () => {
    try {
      execFileSync("redis-cli", ["-p", String(port), "ping"]);
      return true;
    } catch {
      return false;
    }
  });
  return { child, url: `redis://127.0.0.1:${port}/0` };
}
