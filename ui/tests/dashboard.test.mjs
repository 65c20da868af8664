// The live dashboard end to end, in Debian's Chromium driven by Playwright: a real
// `shotline-relay`, a real `shotline run` publishing to it, files dropped into the hot
// folder. The relay is killed and restarted: the page says it is offline, recovers, and
// shows every frame once. WebSocket blocked: the page falls back to Server-Sent Events,
// keeps receiving, and goes back to WebSocket when it is allowed again. Guests' answers
// on an open share show in their panel, from the answer log and then live, as text.
//
// Run by `cargo xtask test` (which builds the binaries and sets SHOTLINE_BIN_DIR).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELAY, SHOTLINE, dirs, freePort, start, stop, until, healthy, mint, launchChromium } from "./support.mjs";

const SECRET = "dashboard-e2e-secret-0123456789";

function token(role) {
  return mint(SECRET, role, "studio:*");
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
  const browser = await launchChromium();
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
  const browser = await launchChromium();
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

test("guests' answers on an open share: from the log, then live, names and comments as text", { timeout: 120_000 }, async () => {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), "shotline-dashboard-answers-"));
  dirs.push(data);
  const relay = start(RELAY, ["serve", "--listen", `127.0.0.1:${port}`, "--data", data], {
    SHOTLINE_RELAY_SECRET: SECRET,
  });
  await until("the relay", () => healthy(port));
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, bearer, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
    return response.json();
  };
  const channel = "studio:gallery:look1";
  const publisher = token("publisher");
  await call("PUT", "/v1/shares/look1", publisher, { channel, exp: Math.floor(Date.now() / 1000) + 600, title: "Spring look" });
  await call("PUT", `/v1/blobs/${channel}/state.json`, publisher, {
    share: "look1",
    frames: [{ frame: 1, name: "IMG_0001.JPG" }, { frame: 2, name: "IMG_0002.JPG" }],
  });
  const guest = (sub, name) =>
    execFileSync(
      RELAY,
      ["token", "--role", "guest", "--channels", channel, "--ttl", "1h", "--sub", sub, "--name", name,
       "--publish", "gallery_rating,gallery_label,gallery_like,gallery_comment"],
      { env: { ...process.env, SHOTLINE_RELAY_SECRET: SECRET } },
    ).toString().trim().split("\n").pop();
  const ana = guest("guest:ana", "Ana <b>Lima</b>");
  const bo = guest("guest:bo", "Bo");
  let n = 0;
  const answer = (who, type, payload) => call("POST", `/v1/channels/${channel}/events`, who, { id: `a-${++n}`, event: { type, payload } });
  const markup = `<img src=x onerror="window.__pwned=1">`;
  // Given before the dashboard opens: it reads them from the share's answer log.
  await answer(ana, "gallery_rating", { frame: 1, stars: 4 });
  await answer(ana, "gallery_comment", { frame: 1, text: markup });

  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/?token=${token("subscriber")}&studio=studio`);
    const share = page.getByRole("region", { name: "Answers on Spring look" });
    const first = share.locator('li.answer[data-frame="1"]');
    await first.waitFor({ timeout: 30_000 });
    assert.equal(await first.locator(".stars").getAttribute("data-rating"), "4");
    assert.equal(await first.locator(".name").textContent(), "IMG_0001.JPG");
    assert.equal(await first.locator(".comment .text").textContent(), markup);
    assert.equal(await first.locator(".comment .who").textContent(), "Ana <b>Lima</b>");
    assert.equal(await page.locator("#answers img, #answers b").count(), 0, "markup stays text");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);

    // Live: Bo labels and likes frame 2, which moves to the top; then rates frame 1.
    await answer(bo, "gallery_label", { frame: 2, label: "red" });
    await answer(bo, "gallery_like", { frame: 2, liked: true });
    const second = share.locator('li.answer[data-frame="2"]');
    await until("frame 2's label and like", async () =>
      (await second.locator('[data-label="red"]').count()) === 1 && (await second.locator('[data-likes="1"]').count()) === 1);
    assert.equal(await share.locator("li.answer").first().getAttribute("data-frame"), "2");
    assert.equal(await second.getAttribute("aria-label"), "IMG_0002.JPG: label red, 1 like");
    await answer(bo, "gallery_rating", { frame: 1, stars: 2 });
    await until("the latest rating", async () => (await first.locator(".stars").getAttribute("data-rating")) === "2");

    // A share the studio closes leaves the panel within the minute it looks again.
    await call("DELETE", "/v1/shares/look1", publisher);
    const reloaded = await browser.newPage();
    await reloaded.goto(`${base}/?token=${token("subscriber")}&studio=studio`);
    await reloaded.getByText("No open share.").waitFor({ timeout: 30_000 });
    assert.equal(await reloaded.locator("li.answer").count(), 0);
  } finally {
    await browser.close();
    await stop(relay);
  }
});
