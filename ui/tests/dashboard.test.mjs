// The live dashboard end to end, in Debian's Chromium driven by Playwright: a real
// `shotline-relay`, a real `shotline run` publishing to it, files dropped into the hot
// folder. The relay is killed and restarted: the page says it is offline, recovers, and
// shows every frame once. WebSocket blocked: the page falls back to Server-Sent Events,
// keeps receiving, and goes back to WebSocket when it is allowed again.
//
// Run by `cargo xtask test` (which builds the binaries and sets SHOTLINE_BIN_DIR).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const binDir = process.env.SHOTLINE_BIN_DIR ?? join(process.cwd(), "..", "target", "debug");
const RELAY = join(binDir, "shotline-relay");
const SHOTLINE = join(binDir, "shotline");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SECRET = "dashboard-e2e-secret-0123456789";

const children = new Set();
const dirs = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function start(command, args, env) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.output = "";
  child.stdout.on("data", (d) => (child.output += d));
  child.stderr.on("data", (d) => (child.output += d));
  child.on("exit", () => children.delete(child));
  return child;
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGKILL");
  });
}

async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function healthy(port) {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

function token(role) {
  return execFileSync(RELAY, ["token", "--role", role, "--channels", "studio:*", "--ttl", "1h"], {
    env: { ...process.env, SHOTLINE_RELAY_SECRET: SECRET },
  })
    .toString()
    .trim();
}

function startRelay(port) {
  return start(RELAY, ["serve", "--listen", `127.0.0.1:${port}`], {
    SHOTLINE_RELAY_SECRET: SECRET,
  });
}

/** A studio folder and `shotline run` publishing to the relay on `port`. */
function startStudio(port) {
  const dir = mkdtempSync(join(tmpdir(), "shotline-dashboard-"));
  dirs.push(dir);
  const hot = join(dir, "hot");
  mkdirSync(hot);
  mkdirSync(join(dir, "b1"));
  const config = join(dir, "shotline.toml");
  writeFileSync(
    config,
    [
      `[studio]\nid = "studio"`,
      `[[hot_folder]]\npath = ${JSON.stringify(hot)}`,
      `[library]\npath = ${JSON.stringify(join(dir, "library"))}\nnaming = "{session}/{original}"`,
      `[[backup]]\nname = "b1"\npath = ${JSON.stringify(join(dir, "b1"))}`,
      `[camera]\nenabled = false`,
      `[relay]\nurl = "ws://127.0.0.1:${port}/v1/ws"`,
    ].join("\n\n") + "\n",
  );
  const engine = start(SHOTLINE, ["run", "--config", config, "--session", "e2e"], {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, ".config"),
    SHOTLINE_RELAY_TOKEN: token("publisher"),
  });
  let n = 0;
  const drop = (count) => {
    for (let i = 0; i < count; i += 1) {
      n += 1;
      // Written under a hidden name, then renamed in, as tethering tools do.
      const partial = join(hot, `.frame-${n}.jpg.partial`);
      writeFileSync(partial, randomBytes(20_000 + n));
      execFileSync("mv", [partial, join(hot, `frame-${n}.jpg`)]);
    }
  };
  const status = () =>
    JSON.parse(
      execFileSync(SHOTLINE, ["status", "--json", "--config", config], {
        env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, ".config") },
      }).toString(),
    );
  return { engine, drop, status };
}

async function launch() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run cargo xtask setup (apt chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

async function mode(page) {
  return page.getAttribute("#connection", "data-mode");
}

/** Shot ids shown, each verified on b1. */
async function verifiedShots(page) {
  return page.$$eval("#shots li.shot", (rows) =>
    rows.filter((r) => r.querySelector('[data-verified="b1"]')).map((r) => r.dataset.shotId),
  );
}

test("frames appear live, survive a relay restart once each, in order", { timeout: 180_000 }, async () => {
  const port = await freePort();
  let relay = startRelay(port);
  await until("the relay", () => healthy(port));
  const studio = startStudio(port);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/?token=${token("subscriber")}`);
    await until("real-time mode", async () => (await mode(page)) === "realtime");

    studio.drop(5);
    await until("5 verified frames", async () => (await verifiedShots(page)).length === 5, 60_000);

    await stop(relay);
    await until("the page to notice", async () => (await mode(page)) === "offline", 30_000);
    // Shot while the relay is away: the engine keeps the events in its journal.
    studio.drop(5);
    // Stored and backed up while the relay is away; their events wait in the journal.
    await until(
      "the frames stored with the relay away",
      () => {
        const s = studio.status();
        return s.shots === 10 && s.queue_depth === 0 && s.relay_queued > 0;
      },
      60_000,
    );
    assert.equal((await verifiedShots(page)).length, 5, "frames reached the page with the relay down");
    relay = startRelay(port);
    await until("the relay again", () => healthy(port));
    await until("real-time again", async () => (await mode(page)) === "realtime", 60_000);
    await until("10 verified frames", async () => (await verifiedShots(page)).length === 10, 60_000);

    const ids = await page.$$eval("#shots li.shot", (rows) => rows.map((r) => r.dataset.shotId));
    assert.equal(new Set(ids).size, ids.length, `a frame shown twice: ${ids}`);
    assert.equal(ids.length, 10);
    // Newest first: the order the frames were stored in.
    const numeric = ids.map(Number);
    assert.deepEqual(numeric, [...numeric].sort((a, b) => b - a));
    // Each backup_verified event counted once: not missing, not doubled.
    assert.equal(await page.textContent('[data-target="b1"] .verified-count'), "10");
    assert.deepEqual(errors, []);
    mkdirSync(join(process.cwd(), "test-results"), { recursive: true });
    await page.screenshot({ path: join(process.cwd(), "test-results", "dashboard.png"), fullPage: true });
  } finally {
    await browser.close();
    await stop(studio.engine);
    await stop(relay);
  }
});

test("WebSocket blocked: Server-Sent Events carry on, then back to WebSocket", { timeout: 180_000 }, async () => {
  const port = await freePort();
  const relay = startRelay(port);
  await until("the relay", () => healthy(port));
  const studio = startStudio(port);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const logs = [];
    page.on("console", (m) => logs.push(m.text()));
    page.on("pageerror", (e) => logs.push(`pageerror ${e}`));
    // A proxy that accepts the upgrade and drops it at once.
    let blocked = true;
    await page.routeWebSocket(/\/v1\/ws/, (ws) => {
      if (blocked) ws.close({ code: 1011, reason: "blocked" });
      else ws.connectToServer();
    });
    await page.goto(`http://127.0.0.1:${port}/?token=${token("subscriber")}`);
    await until("fallback mode", async () => (await mode(page)) === "fallback", 30_000);
    studio.drop(3);
    try {
      await until("3 frames over SSE", async () => (await verifiedShots(page)).length === 3, 60_000);
    } catch (e) {
      const state = await page.evaluate(() => ({
        mode: document.getElementById("connection")?.dataset.mode,
        detail: document.getElementById("connection-detail")?.textContent,
        events: document.getElementById("event-count")?.textContent,
        shots: document.querySelectorAll("#shots li.shot").length,
      }));
      console.error("page:", JSON.stringify(state), "console:", logs.slice(-20).join(" | "));
      console.error("engine:", studio.engine.output.slice(-3000));
      console.error("relay:", relay.output.slice(-3000));
      throw e;
    }
    assert.equal(await mode(page), "fallback");

    blocked = false;
    await until("real-time again", async () => (await mode(page)) === "realtime", 90_000);
    studio.drop(2);
    await until("5 frames", async () => (await verifiedShots(page)).length === 5, 60_000);
    const ids = await page.$$eval("#shots li.shot", (rows) => rows.map((r) => r.dataset.shotId));
    assert.equal(new Set(ids).size, 5, `a frame shown twice: ${ids}`);
    assert.equal(await page.textContent('[data-target="b1"] .verified-count'), "5");
  } finally {
    await browser.close();
    await stop(studio.engine);
    await stop(relay);
  }
});
