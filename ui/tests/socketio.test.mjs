// The relay's Socket.IO endpoint with the official socket.io-client v4, in Node and in
// Debian's Chromium: each transport and the upgrade; 1,000 events in order; resume after a
// dropped connection (recovered true) and after a relay restart (recovered false); a
// subscribe sent the instant each of 1,000 clients connects is never lost; subscribes
// back to back each answered, their replays not cut off as slow; bad,
// expired and revoked tokens as connect_error; the admin API lists and disconnects
// Socket.IO clients; two relay nodes through a real Redis.
//
// Run by `cargo xtask test` (which builds the binaries and sets SHOTLINE_BIN_DIR).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import WebSocket from "ws";
import { RELAY, dirs, freePort, start, stop, until, healthy, mint, launchChromium, redisServer } from "./support.mjs";

const SECRET = "YrjknZrfguPqdmWCYV+FQJh0iaD086d+KthTf6IyrH0=";

function token(role, channels = "s:*", extra = []) {
  return mint(SECRET, role, channels, extra);
}

/** A relay on `port`; `redis` shares its channels. */
async function relay(port, redis) {
  const dir = mkdtempSync(join(tmpdir(), "shotline-sio-"));
  dirs.push(dir);
  const config = join(dir, "relay.toml");
  writeFileSync(config, "publish_rate = 100000\n");
  const args = ["serve", "--listen", `127.0.0.1:${port}`, "--config", config, "--data", join(dir, "data")];
  if (redis) args.push("--redis", redis);
  const child = start(RELAY, args, { SHOTLINE_RELAY_SECRET: SECRET });
  await until("the relay", () => healthy(port));
  return child;
}

function client(port, opts = {}) {
  return io(`http://127.0.0.1:${port}`, { reconnection: false, forceNew: true, ...opts });
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
}

async function publishHttp(port, channel, id, n) {
  const response = await fetch(`http://127.0.0.1:${port}/v1/channels/${channel}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token("publisher")}`, "content-type": "application/json" },
    body: JSON.stringify({ id, event: { type: "shot_stored", payload: { n } } }),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Events of `socket` collected as they come. */
function collect(socket) {
  const events = [];
  socket.on("event", (frame) => events.push(frame));
  return events;
}

test("each transport and the upgrade carry subscribe, event and publish", { timeout: 60_000 }, async () => {
  const port = await freePort();
  const r = await relay(port);
  try {
    for (const [name, transports, upgraded] of [
      ["polling", ["polling"], "polling"],
      ["websocket", ["websocket"], "websocket"],
      ["upgrade", ["polling", "websocket"], "websocket"],
    ]) {
      const sub = client(port, { auth: { token: token("subscriber") }, transports });
      await connected(sub);
      const events = collect(sub);
      const subscribed = await sub.timeout(5000).emitWithAck("subscribe", { channel: `s:${name}` });
      assert.equal(subscribed.type, "subscribed", JSON.stringify(subscribed));
      assert.equal(subscribed.channel, `s:${name}`);
      assert.equal(typeof subscribed.epoch, "string");
      const pub = client(port, { auth: { token: token("publisher") }, transports });
      await connected(pub);
      const ack = await pub.timeout(5000).emitWithAck("publish", {
        channel: `s:${name}`,
        id: `${name}-1`,
        event: { type: "shot_stored", payload: { n: 1 } },
      });
      assert.deepEqual(ack, { offset: 1 });
      const again = await pub.timeout(5000).emitWithAck("publish", { channel: `s:${name}`, id: `${name}-1`, event: { type: "shot_stored", payload: { n: 9 } } });
      assert.deepEqual(again, { offset: 1 }, "a repeated id is acked with its first offset");
      await until(`the ${name} event`, () => events.length === 1);
      assert.deepEqual(Object.keys(events[0]).sort(), ["channel", "event", "id", "offset", "ts", "type"]);
      assert.equal(events[0].type, "event");
      assert.deepEqual(events[0].event, { type: "shot_stored", payload: { n: 1 } });
      await until(`${name} settles on ${upgraded}`, () => sub.io.engine.transport.name === upgraded, 10_000);
      const refused = await sub.timeout(5000).emitWithAck("publish", { channel: `s:${name}`, id: "x", event: { type: "shot_stored", payload: {} } });
      assert.equal(refused.error.code, "forbidden", "a subscriber cannot publish");
      const bad = await sub.timeout(5000).emitWithAck("subscribe", { channel: "not a channel!" });
      assert.equal(bad.error.code, "invalid_channel");
      sub.disconnect();
      pub.disconnect();
    }
  } finally {
    await stop(r);
  }
});

test("1,000 events arrive in order with none missing", { timeout: 120_000 }, async () => {
  const port = await freePort();
  const r = await relay(port);
  try {
    const sub = client(port, { auth: { token: token("subscriber") } });
    await connected(sub);
    const events = collect(sub);
    await sub.timeout(5000).emitWithAck("subscribe", { channel: "s:burst" });
    const pub = client(port, { auth: { token: token("publisher") }, transports: ["websocket"] });
    await connected(pub);
    const acks = [];
    for (let n = 1; n <= 1000; n += 1) {
      acks.push(pub.timeout(20_000).emitWithAck("publish", { channel: "s:burst", id: `b-${n}`, event: { type: "shot_stored", payload: { n } } }));
    }
    const answered = await Promise.all(acks);
    assert.ok(answered.every((a) => typeof a.offset === "number"), JSON.stringify(answered.find((a) => !a.offset)));
    await until("1,000 events", () => events.length >= 1000, 60_000);
    assert.equal(events.length, 1000);
    assert.deepEqual(events.map((e) => e.offset), Array.from({ length: 1000 }, (_, i) => i + 1));
    assert.equal(new Set(events.map((e) => e.id)).size, 1000);
    assert.deepEqual(events.map((e) => e.event.payload.n), Array.from({ length: 1000 }, (_, i) => i + 1), "published in the order sent");
    sub.disconnect();
    pub.disconnect();
  } finally {
    await stop(r);
  }
});

/** A bare Engine.IO 4 / Socket.IO 5 client over `ws` that emits `subscribe` in the same
 *  instant the connect packet arrives (as some clients do), and resolves with its ack. */
function rawSubscribe(port, tokenText, channel) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const timer = setTimeout(() => resolve({ ws, ack: undefined }), 30_000);
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") ws.send("3");
      else if (text.startsWith("0")) ws.send(`40${JSON.stringify({ token: tokenText })}`);
      else if (text.startsWith("40")) ws.send(`421${JSON.stringify(["subscribe", { channel }])}`);
      else if (text.startsWith("431")) {
        clearTimeout(timer);
        resolve({ ws, ack: JSON.parse(text.slice(3))[0] });
      }
    });
    ws.on("error", () => {});
  });
}

test("a subscribe sent the instant each of 1,000 clients connects is answered, none lost", { timeout: 180_000 }, async () => {
  // socket.io sends the connect packet before its connect handler runs: the relay's
  // handlers must already be there for an event that comes straight after it.
  const port = await freePort();
  const r = await relay(port);
  const tokenText = token("subscriber");
  const clients = [];
  try {
    for (let i = 0; i < 1000; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => rawSubscribe(port, tokenText, "s:race")))));
    }
    const lost = clients.filter((c) => c.ack?.channel !== "s:race").length;
    assert.equal(lost, 0, `${lost} of 1,000 subscribes sent at connect got no answer`);
    const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
    assert.equal(stats.subscriptions, 1000);
  } finally {
    for (const c of clients) c.ws.close();
    await stop(r);
  }
});

test("subscribes sent back to back, to one channel and to many with replays, are each answered", { timeout: 60_000 }, async () => {
  const port = await freePort();
  const r = await relay(port);
  try {
    for (let n = 1; n <= 300; n += 1) await publishHttp(port, "s:again", `e-${n}`, n);
    const sub = client(port, { auth: { token: token("subscriber") }, transports: ["websocket"] });
    await connected(sub);
    const events = collect(sub);
    // Each replays 300 events; none may be cut off as slow, and each ack is its own.
    const acks = await Promise.all([
      sub.timeout(10_000).emitWithAck("subscribe", { channel: "s:again", since: 0 }),
      sub.timeout(10_000).emitWithAck("subscribe", { channel: "s:again", since: 100 }),
      sub.timeout(10_000).emitWithAck("subscribe", { channel: "s:again", since: 200 }),
    ]);
    assert.deepEqual(acks.map((a) => a.channel), ["s:again", "s:again", "s:again"]);
    assert.ok(acks.every((a) => a.offset === 300), JSON.stringify(acks));
    await until("the replays", () => events.length >= 600);
    assert.ok(sub.connected, "still connected after three replays");
    sub.disconnect();
  } finally {
    await stop(r);
  }
});

test("resume: recovered after a dropped connection, not after a relay restart", { timeout: 60_000 }, async () => {
  const port = await freePort();
  let r = await relay(port);
  try {
    const subscriber = token("subscriber");
    let sub = client(port, { auth: { token: subscriber } });
    await connected(sub);
    let events = collect(sub);
    const first = await sub.timeout(5000).emitWithAck("subscribe", { channel: "s:resume" });
    for (let n = 1; n <= 3; n += 1) await publishHttp(port, "s:resume", `r-${n}`, n);
    await until("3 events", () => events.length === 3);
    sub.disconnect();
    for (let n = 4; n <= 6; n += 1) await publishHttp(port, "s:resume", `r-${n}`, n);
    sub = client(port, { auth: { token: subscriber } });
    await connected(sub);
    events = collect(sub);
    const resumed = await sub.timeout(5000).emitWithAck("subscribe", { channel: "s:resume", since: 3, epoch: first.epoch });
    assert.equal(resumed.recovered, true, JSON.stringify(resumed));
    assert.equal(resumed.offset, 6);
    await until("the 3 missed events", () => events.length === 3);
    assert.deepEqual(events.map((e) => e.offset), [4, 5, 6]);
    sub.disconnect();
    await stop(r);
    r = await relay(port);
    sub = client(port, { auth: { token: subscriber } });
    await connected(sub);
    const restarted = await sub.timeout(5000).emitWithAck("subscribe", { channel: "s:resume", since: 6, epoch: first.epoch });
    assert.equal(restarted.recovered, false, "a new epoch cannot be resumed");
    assert.notEqual(restarted.epoch, first.epoch);
    sub.disconnect();
  } finally {
    await stop(r);
  }
});

test("bad, expired and revoked tokens are connect_error with the code; the admin API sees socketio", { timeout: 60_000 }, async () => {
  const port = await freePort();
  const r = await relay(port);
  try {
    for (const [auth, code] of [[{}, "unauthorized"], [{ token: "not.a.token" }, "unauthorized"]]) {
      const s = client(port, { auth });
      const err = await new Promise((resolve) => s.once("connect_error", resolve));
      assert.equal(err.message, code);
      s.close();
    }
    const viaQuery = client(port, { query: { token: token("subscriber") } });
    await connected(viaQuery);
    viaQuery.disconnect();
    const admin = token("admin", "*");
    const tablet = token("subscriber", "s:*", ["--sub", "tablet"]);
    const tabs = [client(port, { auth: { token: tablet } }), client(port, { auth: { token: tablet }, transports: ["websocket"] })];
    await Promise.all(tabs.map(connected));
    await tabs[0].timeout(5000).emitWithAck("subscribe", { channel: "s:camera" });
    const list = await (await fetch(`http://127.0.0.1:${port}/v1/admin/connections?sub=tablet`, { headers: { authorization: `Bearer ${admin}` } })).json();
    assert.equal(list.connections.length, 2, JSON.stringify(list));
    assert.ok(list.connections.every((c) => c.transport === "socketio" && c.sub === "tablet"));
    const gone = tabs.map((t) => new Promise((resolve) => t.once("disconnect", resolve)));
    const closed = await (await fetch(`http://127.0.0.1:${port}/v1/admin/disconnect`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ sub: "tablet" }),
    })).json();
    assert.deepEqual(closed, { closed: 2 });
    assert.deepEqual(await Promise.all(gone), ["io server disconnect", "io server disconnect"]);
    // Revoked: refused at the door from then on.
    const jti = JSON.parse(Buffer.from(tablet.split(".")[1], "base64url").toString()).jti;
    const revoked = await fetch(`http://127.0.0.1:${port}/v1/admin/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ jti }),
    });
    assert.equal(revoked.status, 200);
    const s = client(port, { auth: { token: tablet } });
    const err = await new Promise((resolve) => s.once("connect_error", resolve));
    assert.equal(err.message, "revoked");
    s.close();
  } finally {
    await stop(r);
  }
});

test("two relay nodes through a real Redis: publish on one, receive on the other", { timeout: 60_000 }, async () => {
  const redis = await redisServer();
  const [pa, pb] = [await freePort(), await freePort()];
  const a = await relay(pa, redis.url);
  const b = await relay(pb, redis.url);
  try {
    const sub = client(pb, { auth: { token: token("subscriber") }, transports: ["websocket"] });
    await connected(sub);
    const events = collect(sub);
    const subscribed = await sub.timeout(5000).emitWithAck("subscribe", { channel: "s:cluster" });
    assert.equal(subscribed.type, "subscribed");
    const pub = client(pa, { auth: { token: token("publisher") }, transports: ["websocket"] });
    await connected(pub);
    for (let n = 1; n <= 20; n += 1) {
      await pub.timeout(5000).emitWithAck("publish", { channel: "s:cluster", id: `c-${n}`, event: { type: "shot_stored", payload: { n } } });
    }
    await until("20 events on the other node", () => events.length === 20);
    assert.deepEqual(events.map((e) => e.offset), Array.from({ length: 20 }, (_, i) => i + 1));
    sub.disconnect();
    pub.disconnect();
  } finally {
    await stop(a);
    await stop(b);
    await stop(redis.child);
  }
});

test("in Chromium, the browser bundle connects, upgrades and receives", { timeout: 60_000 }, async () => {
  const port = await freePort();
  const r = await relay(port);
  const browser = await launchChromium();
  try {
    const bundle = readFileSync(join(process.cwd(), "node_modules/socket.io-client/dist/socket.io.min.js"), "utf8");
    const page = await browser.newPage();
    const logs = [];
    page.on("console", (m) => logs.push(m.text()));
    const origin = `http://127.0.0.1:${port}`;
    // A page of the relay's own origin (its health answer) to run the bundle in.
    await page.goto(`${origin}/health`);
    await page.addScriptTag({ content: bundle });
    const subscriber = token("subscriber");
    await page.evaluate(async ({ origin, subscriber }) => {
      window.got = [];
      window.sock = window.io(origin, { auth: { token: subscriber }, reconnection: false });
      window.sock.on("event", (e) => window.got.push(e));
      window.sock.io.on("open", () => {
        window.sock.io.engine.on("upgradeError", (e) => console.log("upgradeError " + e.message + " " + (e.description && e.description.message)));
        window.sock.io.engine.on("upgrading", (t) => console.log("upgrading " + t.name));
        window.sock.io.engine.on("upgrade", (t) => console.log("upgrade " + t.name));
      });
      await new Promise((resolve, reject) => {
        window.sock.once("connect", resolve);
        window.sock.once("connect_error", reject);
      });
      window.subscribed = await window.sock.timeout(5000).emitWithAck("subscribe", { channel: "s:browser" });
    }, { origin, subscriber });
    assert.equal(await page.evaluate(() => window.subscribed.type), "subscribed");
    for (let n = 1; n <= 5; n += 1) await publishHttp(port, "s:browser", `w-${n}`, n);
    await until("5 events in the page", async () => (await page.evaluate(() => window.got.length)) === 5);
    assert.deepEqual(await page.evaluate(() => window.got.map((e) => e.offset)), [1, 2, 3, 4, 5]);
    try {
      await until("the upgrade to WebSocket", async () => (await page.evaluate(() => window.sock.io.engine.transport.name)) === "websocket", 10_000);
    } catch (e) {
      throw new Error(`${e.message}: ${await page.evaluate(() => JSON.stringify({ t: window.sock.io.engine.transport.name, up: window.sock.io.engine.upgrades, ws: typeof WebSocket }))} ${logs.join("\n")}\n${r.output.slice(-3000)}`);
    }
  } finally {
    await browser.close();
    await stop(r);
  }
});
