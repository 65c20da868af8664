// Live view in Debian's Chromium, against a real `shotline-relay` and a real `shotline
// run`: a publisher (standing in for the engine's camera thread, which needs a camera)
// sends pictures to `/v1/live/studio:live/publish`; the dashboard's "Watch live view" and
// the gallery page's "Watch live" show them in a plain <img>, the page only on a share
// the studio shares live view on (`share create --live on`). A guest of another share
// cannot open it, and the page's address holds a one-use ticket, never a token.
// Run by `cargo xtask test` (which builds the binaries and sets SHOTLINE_BIN_DIR).

import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { freePort, healthy, launchChromium, stop, tempDir } from "./support.mjs";
import { guest, jpeg, relayToken, startRelay, studio, until } from "./gallery-support.mjs";

/** Publish a picture every 100 ms until stopped; resolves once the relay took the socket. */
function publisher(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/live/studio:live/publish`, {
    headers: { authorization: `Bearer ${relayToken("publisher", "studio:*")}` },
  });
  const pictures = [jpeg(320, 240, "LIVE"), jpeg(320, 240, "VIEW")];
  const seen = { viewers: 0 };
  let timer = null;
  ws.on("message", (data, binary) => {
    if (!binary) seen.viewers = JSON.parse(String(data)).viewers;
  });
  const opened = new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("error", reject);
  });
  return opened.then(() => {
    let k = 0;
    timer = setInterval(() => {
      ws.send(JSON.stringify({ taken_ms: Date.now() }));
      ws.send(pictures[k++ % 2]);
    }, 100);
    return { seen, close: () => (clearInterval(timer), ws.close()) };
  });
}

/** The <img>'s picture is drawn (a decoded JPEG from the stream). */
async function showing(page, selector) {
  return page.locator(selector).evaluate((img) => img.complete && img.naturalWidth === 320).catch(() => false);
}

test("the dashboard and a sharing gallery show live view; other shares and guests do not", async () => {
  const port = await freePort();
  const data = tempDir("shotline-live-relay-");
  const relay = startRelay(port, data);
  await until("the relay", () => healthy(port));
  const s = studio(port);
  const browser = await launchChromium();
  let live = null;
  try {
    await until("the engine", () => /running/i.test(s.engine.output), 60_000);
    live = await publisher(port);
    const make = (...args) => {
      const out = s.cli("share", "create", "--ttl", "30m", ...args).trim().split("\n");
      return { id: out[0], link: out[out.length - 1] };
    };
    const cover = join(tempDir("shotline-live-overlay-"), "cover.png");
    execFileSync("convert", ["-size", "320x240", "xc:none", "-fill", "none", "-stroke", "red", "-strokewidth", "6", "-draw", "rectangle 10,10 310,230", cover]);
    const sharing = make("--title", "On set", "--live", "on", "--live-overlay", cover);
    const quiet = make("--title", "Proofs");
    assert.throws(() => s.cli("share", "create", "--live", "maybe"), /write on or off/);

    // The dashboard (the studio's subscriber token).
    const dashboard = await browser.newPage();
    await dashboard.goto(`http://127.0.0.1:${port}/?token=${relayToken("subscriber", "studio:*")}`);
    await dashboard.getByRole("button", { name: "Watch live view" }).click();
    await until("the dashboard's live picture", () => showing(dashboard, "#live-stream"), 30_000);
    assert.match(await dashboard.locator("#live-stream").getAttribute("src"), /\?ticket=[0-9a-f]{32}$/);
    await until("the publisher hears of a viewer", () => live.seen.viewers >= 1);

    // A guest of the sharing share watches too.
    const ana = await guest(browser, sharing.link);
    await ana.page.getByRole("textbox", { name: "Your name" }).fill("Ana");
    await ana.page.getByRole("button", { name: "Continue" }).click();
    const watch = ana.page.getByRole("button", { name: "Watch live" });
    await watch.waitFor();
    await watch.click();
    await until("the guest's live picture", () => showing(ana.page, "#live-stream"), 30_000);
    const src = await ana.page.locator("#live-stream").getAttribute("src");
    assert.match(src, new RegExp(`^/v1/shares/${sharing.id}/live\\?ticket=[0-9a-f]{32}$`));
    // The studio's layout overlay lies over the picture.
    await until("the layout overlay over the guest's picture", () =>
      ana.page.locator("#live-overlay").evaluate((img) => !img.hidden && img.complete && img.naturalWidth === 320).catch(() => false));
    await until("two viewers", () => live.seen.viewers >= 2);
    assert.deepEqual(ana.errors, []);

    // The other share's page has no live view, and its guest cannot open it.
    const ben = await guest(browser, quiet.link);
    await ben.page.getByRole("textbox", { name: "Your name" }).fill("Ben");
    await ben.page.getByRole("button", { name: "Continue" }).click();
    await ben.page.getByRole("heading", { name: "Proofs" }).waitFor();
    assert.equal(await ben.page.locator("#live-box").isVisible(), false, "no live view on a share that does not share it");
    const refused = await ben.page.evaluate(async ([mine, theirs]) => {
      const guest = JSON.parse(localStorage.getItem(`shotline-guest:${mine}`) ?? "null");
      if (!guest?.token) return "no token";
      const r = await fetch(`/v1/shares/${theirs}/live`, { headers: { accept: "application/json", authorization: `Bearer ${guest.token}` } });
      return r.status;
    }, [quiet.id, sharing.id]);
    assert.equal(refused, 403, "another share's guest cannot open it");
    const own = await fetch(`http://127.0.0.1:${port}/v1/shares/${quiet.id}/live`, {
      headers: { authorization: `Bearer ${relayToken("guest", `studio:gallery:${quiet.id}`)}` },
    });
    assert.equal(own.status, 403, "a share without live view");
    assert.match(await own.text(), /does not share its live view/);

    // The studio switches it off: the guest's open stream ends (the dashboard's goes on)
    // and the relay refuses to open it again.
    s.cli("share", "set", sharing.id, "--live", "off");
    await until("the relay refuses the share's live view", async () => {
      const r = await fetch(`http://127.0.0.1:${port}/v1/shares/${sharing.id}/live`, {
        headers: { accept: "application/json", authorization: `Bearer ${relayToken("guest", `studio:gallery:${sharing.id}`)}` },
      });
      return r.status === 403;
    });
    await until("the guest's stream ended", () => live.seen.viewers === 1, 30_000);
  } finally {
    live?.close();
    await browser.close();
    stop(s.engine);
    stop(relay);
  }
});
