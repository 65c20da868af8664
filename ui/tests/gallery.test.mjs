// The live gallery end to end, in Debian's Chromium driven by Playwright: a real
// `shotline-relay` (with its data folder), a real `shotline run` publishing to it, frames
// dropped into the hot folder — JPEGs made by ImageMagick, and RAW files this test builds
// around an embedded JPEG preview (a TIFF-based NEF, a CR3 in its ISO-BMFF boxes) — and
// one frame with no picture in it. `shotline share create` makes the link; two guests
// open it, one on a phone viewport; frames arrive without a reload; a frame opens large
// in a dialog and steps with the arrow keys; the relay restarts and the pages catch up;
// a late guest sees every earlier frame; the link's token is refused everywhere but its
// own share; `shotline share revoke` closes open pages and the link answers 410.
// Then guests answer: stars, a colour label, a like and comments reach every open page and
// a late guest; markup in names and comments stays text; the guest rate is said politely;
// the studio's `share export` and the frame's XMP sidecar (read by exiftool) hold them.
// Last, two relay nodes through a real Redis: the engine on one, guests on both; frames,
// previews and answers cross between them.
//
// With SHOTLINE_SCREENSHOTS=DIR, the phone and desktop views are saved there (docs/).
// Run by `cargo xtask test` (which builds the binaries and sets SHOTLINE_BIN_DIR).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELAY, SHOTLINE, dirs, freePort, start, stop, healthy, launchChromium, redisServer, tempDir } from "./support.mjs";
import { SECRET, relayToken, until, jpeg, u32le, u32be, tiffRaw, cr3, startRelay, studio, frame, guest, giveName, open, shown, loaded } from "./gallery-support.mjs";

test("two guests see every frame live, catch up after a relay restart, and are shut out by revoke", async () => {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), "shotline-gallery-relay-"));
  dirs.push(data);
  let relay = startRelay(port, data);
  await until("the relay", () => healthy(port));
  const s = studio(port);
  const names = [];
  for (let n = 1; n <= 8; n++) {
    const f = frame(n);
    names.push(f.name);
    s.drop(f.name, f.bytes);
  }
  // A frame with nothing to show: a placeholder with its name, never an error.
  s.drop("DSC_0009.CR2", Buffer.concat([Buffer.from("II*\0"), Buffer.alloc(50_000, 9)]));
  names.push("DSC_0009.CR2");

  await until("the engine", () => /running/i.test(s.engine.output), 60_000);
  const created = s.cli("share", "create", "--title", "Acme spring catalogue", "--ttl", "30m").trim().split("\n");
  const id = created[0];
  const link = created[created.length - 1];
  assert.match(id, /^[a-z0-9]{12}$/, created.join("\n"));
  assert.ok(link.startsWith(`http://127.0.0.1:${port}/g/${id}#`), link);
  const linkToken = link.split("#")[1];
  const listed = JSON.parse(s.cli("share", "list", "--json"));
  assert.equal(listed[0].id, id);
  assert.equal(listed[0].session, "acme-spring");
  assert.equal(listed[0].state, "open");

  const browser = await launchChromium();
  try {
    const desk = await guest(browser, link, { viewport: { width: 1440, height: 900 } });
    const phone = await guest(browser, link, {
      viewport: { width: 375, height: 812 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    for (const g of [desk, phone]) {
      await until("the first nine frames", async () => (await shown(g.page)).length === 9);
      await g.page.getByRole("heading", { name: "Acme spring catalogue" }).waitFor();
      await g.page.getByRole("textbox", { name: "Your name" }).waitFor();
    }
    // One guest gives a name: the link's token is exchanged for a token of their own.
    await desk.page.getByRole("textbox", { name: "Your name" }).fill("Ana <b>Art</b> Director");
    await desk.page.getByRole("button", { name: "Continue" }).click();
    await desk.page.getByText("Viewing as Ana <b>Art</b> Director").waitFor();
    await desk.page.getByRole("textbox", { name: "Your name" }).waitFor({ state: "hidden" });
    assert.equal(await desk.page.locator("#viewer-name b").count(), 0, "a name is text, never HTML");
    const own = await desk.page.evaluate((key) => JSON.parse(localStorage.getItem(key)).token, `shotline-guest:${id}`);
    assert.notEqual(own, linkToken);

    // Eleven more frames arrive live, newest first, on both pages, without a reload.
    for (let n = 10; n <= 20; n++) {
      const f = frame(n);
      names.push(f.name);
      s.drop(f.name, f.bytes);
    }
    for (const g of [desk, phone]) {
      await until("twenty frames", async () => (await shown(g.page)).length === 20);
      await until("every thumbnail but the placeholder", async () => (await loaded(g.page)) === 19);
      const order = await shown(g.page);
      assert.equal(order[0], "IMG_0020.CR3", `newest first: ${order.join(", ")}`);
      assert.deepEqual([...order].sort(), [...names].sort());
      assert.equal(await g.page.locator("#count").textContent(), "20 frames");
      assert.equal(await g.page.locator("#connection").textContent(), "Live");
    }
    const placeholder = desk.page.locator(".tile.placeholder");
    assert.equal(await placeholder.count(), 1);
    assert.equal(await placeholder.locator(".caption").textContent(), "DSC_0009.CR2");
    // Previews: upright JPEGs of long edge 400 (thumbnail) and 2048 (preview).
    const thumbSize = await desk.page
      .getByRole("img", { name: "IMG_0001.JPG" })
      .evaluate((i) => [i.naturalWidth, i.naturalHeight]);
    assert.deepEqual(thumbSize, [400, 267]);
    // The phone shows a grid of several columns that fits its width.
    const columns = await phone.page.locator("#grid").evaluate((g) => getComputedStyle(g).gridTemplateColumns.split(" ").length);
    assert.ok(columns >= 2 && columns <= 4, `${columns} columns on a phone`);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the phone view scrolls sideways by ${overflow}px`);

    // A frame opens large in a dialog; the arrow keys step through the frames.
    await desk.page.getByRole("img", { name: "DSC_0018.NEF" }).click();
    const dialog = desk.page.getByRole("dialog", { name: "DSC_0018.NEF" });
    await dialog.waitFor();
    await until("the 2048 px preview", () =>
      dialog.locator("#viewer-image").evaluate((i) => i.src.startsWith("blob:") && i.naturalWidth === 2048),
    );
    assert.deepEqual(
      await dialog.locator("#viewer-image").evaluate((i) => [i.naturalWidth, i.naturalHeight]),
      [2048, 1362],
    );
    await desk.page.keyboard.press("ArrowRight");
    await desk.page.getByRole("dialog", { name: "IMG_0017.JPG" }).waitFor();
    await desk.page.keyboard.press("ArrowLeft");
    await desk.page.getByRole("dialog", { name: "DSC_0018.NEF" }).waitFor();
    await desk.page.keyboard.press("Escape");
    await until("the dialog to close", async () => !(await desk.page.locator("#viewer").evaluate((d) => d.open)));
    // A swipe on the phone steps too.
    await phone.page.getByRole("img", { name: "IMG_0015.CR3" }).click();
    await phone.page.getByRole("dialog", { name: "IMG_0015.CR3" }).waitFor();
    await phone.page.locator(".viewer-stage").evaluate((stage) => {
      const touch = (x) => new Touch({ identifier: 1, target: stage, clientX: x, clientY: 300 });
      stage.dispatchEvent(new TouchEvent("touchstart", { touches: [touch(300)], bubbles: true }));
      stage.dispatchEvent(new TouchEvent("touchend", { changedTouches: [touch(80)], bubbles: true }));
    });
    await phone.page.getByRole("dialog", { name: "DSC_0014.NEF" }).waitFor();
    await phone.page.keyboard.press("Escape");

    if (process.env.SHOTLINE_SCREENSHOTS) {
      mkdirSync(process.env.SHOTLINE_SCREENSHOTS, { recursive: true });
      await desk.page.screenshot({ path: join(process.env.SHOTLINE_SCREENSHOTS, "gallery-desktop.png") });
      await phone.page.screenshot({ path: join(process.env.SHOTLINE_SCREENSHOTS, "gallery-phone.png") });
    }

    // The relay restarts (its history is gone; its data folder is not); frames taken
    // meanwhile wait in the engine's outbox. Open pages catch up.
    await stop(relay);
    await until("the pages to see the relay gone", async () =>
      (await desk.page.locator("#connection").textContent()) !== "Live",
    );
    for (let n = 21; n <= 22; n++) {
      const f = frame(n);
      names.push(f.name);
      s.drop(f.name, f.bytes);
    }
    await new Promise((r) => setTimeout(r, 1500));
    relay = startRelay(port, data);
    await until("the relay again", () => healthy(port));
    for (const g of [desk, phone]) {
      await until("the frames taken while the relay was down", async () => (await shown(g.page)).length === 22, 90_000);
      await until("live again", async () => (await g.page.locator("#connection").textContent()) === "Live", 60_000);
      assert.equal((await shown(g.page))[0], "DSC_0022.NEF");
    }
    // A late guest sees every earlier frame.
    const late = await guest(browser, link, { viewport: { width: 1024, height: 768 } });
    await until("a late guest's 22 frames", async () => (await shown(late.page)).length === 22);

    // The link's token reaches its own share only.
    const base = `http://127.0.0.1:${port}`;
    const bearer = { authorization: `Bearer ${linkToken}` };
    const refused = async (path, init = {}) =>
      (await fetch(base + path, { ...init, headers: { ...bearer, ...(init.headers ?? {}) } })).status;
    assert.equal(await refused(`/v1/blobs/studio:gallery:${id}/state.json`), 200);
    assert.equal(await refused("/v1/channels/studio:camera/events?since=0"), 403);
    assert.equal(await refused("/v1/channels/studio:alerts/sse"), 403);
    assert.equal(await refused("/v1/blobs/studio:gallery:someoneelse/state.json"), 403);
    assert.equal(await refused("/v1/admin/connections"), 403);
    assert.equal(await refused(`/v1/blobs/studio:gallery:${id}/x.jpg`, { method: "PUT", body: "x" }), 403);
    assert.equal(await refused(`/v1/shares/${id}`, { method: "DELETE" }), 403);
    assert.equal(
      await refused("/v1/tokens", { method: "POST", body: JSON.stringify({ channels: ["studio:*"] }) }),
      403,
    );
    assert.equal(
      await refused(`/v1/channels/studio:gallery:${id}/events`, {
        method: "POST",
        body: JSON.stringify({ id: "x1", event: { type: "shot_stored", payload: {} } }),
      }),
      403,
      "a guest publishes only the gallery's answers",
    );
    const ws = await desk.page.evaluate(
      ({ port, token }) =>
        new Promise((resolve) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?token=${token}`);
          socket.onopen = () => socket.send(JSON.stringify({ type: "subscribe", channel: "studio:camera" }));
          socket.onmessage = (m) => {
            resolve(JSON.parse(m.data));
            socket.close();
          };
        }),
      { port, token: linkToken },
    );
    assert.equal(ws.type, "error");
    assert.equal(ws.code, "forbidden");

    // Revoke: open pages are cut off and show that the gallery has closed; the link
    // answers 410 with a page that says so; the previews are refused.
    const revoked = s.cli("share", "revoke", id);
    assert.match(revoked, /closed/);
    for (const g of [desk, phone, late]) {
      await g.page.getByRole("heading", { name: "This gallery has closed" }).waitFor({ timeout: 30_000 });
      assert.equal((await shown(g.page)).length, 0, "no frame stays on a closed gallery's page");
    }
    const gone = await fetch(`${base}/g/${id}`);
    assert.equal(gone.status, 410);
    assert.match(await gone.text(), /This gallery has closed/);
    assert.equal(await refused(`/v1/blobs/studio:gallery:${id}/state.json`), 401);
    assert.equal((await fetch(`${base}/g/nosuchshare`)).status, 404);
    const after = await guest(browser, link, {});
    await after.page.getByRole("heading", { name: "This gallery has closed" }).waitFor();
    assert.equal(JSON.parse(s.cli("share", "list", "--json"))[0].state, "revoked");

    for (const g of [desk, phone, late]) {
      assert.deepEqual(g.errors, [], "no script errors");
      // No third-party requests: everything from the relay, or blob:/data: URLs.
      const foreign = g.requests.filter((u) => !u.startsWith(base) && !/^(blob|data):/.test(u));
      assert.deepEqual(foreign, []);
    }
    const csp = (await fetch(`${base}/assets/gallery/main.js`)).headers.get("content-security-policy");
    assert.match(csp, /default-src 'none'/);
  } catch (e) {
    console.error(`engine output:\n${s.engine.output.slice(-6000)}\nrelay output:\n${relay.output.slice(-3000)}`);
    throw e;
  } finally {
    await browser.close();
    await stop(s.engine);
    await stop(relay);
  }
});

test("guests rate, label, like and comment; every page and the studio see it; markup stays text", async () => {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), "shotline-answers-relay-"));
  dirs.push(data);
  // A low guest rate, so the page's rate-limit message shows.
  const relay = startRelay(port, data, "guest_rate = 12\n");
  await until("the relay", () => healthy(port));
  const s = studio(port, "review");
  for (let n = 1; n <= 3; n++) s.drop(`IMG_000${n}.JPG`, jpeg(1200, 800, `A${n}`));
  await until("the engine", () => /running/i.test(s.engine.output), 60_000);
  const created = s.cli("share", "create", "--title", "Review", "--ttl", "30m").trim().split("\n");
  const id = created[0];
  const link = created[created.length - 1];
  const browser = await launchChromium();
  const evil = "<img src=x onerror=\"window.__xss=1\"> \u202Egnp.exe";
  // As the relay keeps it: the right-to-left override taken out, the markup as text.
  const evilShown = evil.replace("\u202E", "");
  try {
    const ana = await guest(browser, link, { viewport: { width: 1280, height: 900 } });
    const ben = await guest(browser, link, { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    for (const [g, name] of [[ana, "Ana"], [ben, evil]]) {
      await until("three frames", async () => (await shown(g.page)).length === 3);
      await giveName(g.page, name);
    }
    // Ana answers the first frame.
    const dialog = await open(ana.page, "IMG_0001.JPG");
    await dialog.getByRole("button", { name: "Rate 4 stars" }).click();
    await dialog.getByRole("button", { name: "Label red" }).click();
    await dialog.getByRole("button", { name: "Like" }).click();
    const comment = '<img src=x onerror="window.__xss=1"> [link](javascript:alert(1)) can we see it without the hat?';
    await dialog.getByRole("textbox", { name: "Comment" }).fill(comment);
    await dialog.getByRole("button", { name: "Send" }).click();
    await until("Ana's like pressed", async () => (await dialog.getByRole("button", { name: "Like" }).getAttribute("aria-pressed")) === "true");
    assert.equal(await dialog.getByRole("button", { name: "Rate 4 stars" }).getAttribute("aria-pressed"), "true");
    assert.equal(await dialog.getByRole("button", { name: "Rate 5 stars" }).getAttribute("aria-pressed"), "false");
    assert.equal(await dialog.getByRole("button", { name: "Label red" }).getAttribute("aria-pressed"), "true");

    // Ben sees all of it live, the comment as text, and answers back.
    await ben.page.getByRole("img", { name: "IMG_0001.JPG" }).click();
    const benDialog = ben.page.getByRole("dialog", { name: "IMG_0001.JPG" });
    await benDialog.waitFor();
    await until("Ana's comment on Ben's page", async () => (await ben.page.locator("#comments li").count()) === 1);
    assert.equal(await ben.page.locator("#comments li .text").textContent(), comment);
    assert.equal(await ben.page.locator("#comments li .who").textContent(), "Ana");
    assert.equal(await ben.page.locator("#like-count").textContent(), "1 like");
    assert.match(await ben.page.locator("#marks-list").textContent(), /Ana: ★★★★, red/);
    await benDialog.getByRole("button", { name: "Like" }).click();
    await benDialog.getByRole("textbox", { name: "Comment" }).fill("yes, and the other way round");
    await benDialog.getByRole("button", { name: "Send" }).click();
    await until("Ben's answers on Ana's page", async () =>
      (await ana.page.locator("#like-count").textContent()) === "2 likes" &&
      (await ana.page.locator("#comments li").count()) === 2,
    );
    // Ben's name is shown as the text it is, on every page.
    assert.equal(await ana.page.locator("#comments li .who").nth(1).textContent(), evilShown);
    for (const g of [ana, ben]) {
      assert.equal(await g.page.evaluate(() => window.__xss), undefined, "no script ran");
      assert.equal(await g.page.locator('img[src="x"]').count(), 0, "no markup became HTML");
    }
    await ana.page.keyboard.press("Escape");
    // The grid's badges and filters.
    const tile = ana.page
      .locator("#grid li", { has: ana.page.getByRole("img", { name: "IMG_0001.JPG" }) })
      .locator(".badges");
    await until("the tile's badges", async () => /♥ 2/.test((await tile.textContent()) ?? ""));
    await ana.page.getByLabel("Liked").check();
    await until("one liked frame shown", async () => (await ana.page.locator("#filter-count").textContent()) === "1 of 3 shown");
    await ana.page.getByLabel("Liked").uncheck();
    await ana.page.getByLabel("Mine").check();
    await until("Ana's frames", async () => (await ana.page.locator("#filter-count").textContent()) === "1 of 3 shown");
    await ana.page.getByLabel("Mine").uncheck();

    // A late guest sees the whole current state, from the answer log.
    const late = await guest(browser, link, { viewport: { width: 1024, height: 768 } });
    await until("three frames", async () => (await shown(late.page)).length === 3);
    await late.page.getByRole("img", { name: "IMG_0001.JPG" }).click();
    await until("the late guest sees both comments", async () => (await late.page.locator("#comments li").count()) === 2);
    assert.equal(await late.page.locator("#like-count").textContent(), "2 likes");

    // Too fast: the relay's guest rate, said politely in the page.
    await ben.page.keyboard.press("Escape");
    await ben.page.getByRole("img", { name: "IMG_0002.JPG" }).click();
    const second = ben.page.getByRole("dialog", { name: "IMG_0002.JPG" });
    for (let i = 0; i < 14; i++) await second.getByRole("button", { name: `Rate ${1 + (i % 5)} star${i % 5 ? "s" : ""}` }).click();
    await until("the rate-limit note", async () =>
      /answering faster than the gallery takes them/.test((await ben.page.locator("#answer-error").textContent()) ?? ""),
    );

    // The studio: every answer in the journal, in the export, and in the sidecar.
    let exported = [];
    await until("the studio's export", async () => {
      exported = JSON.parse(s.cli("share", "export", id, "--format", "json")).answers;
      return exported.filter((a) => a.file === "IMG_0001.JPG").length === 6;
    });
    const names = new Set(exported.map((a) => a.name));
    assert.ok(names.has("Ana") && names.has(evilShown), [...names].join(" | "));
    const sidecar = join(s.dir, "library", "review", "IMG_0001.xmp");
    await until("the sidecar", async () => {
      try {
        const tags = JSON.parse(execFileSync("exiftool", ["-json", "-XMP:Rating", "-XMP:Label", sidecar]).toString())[0];
        return tags.Rating === 4 && tags.Label === "Red";
      } catch {
        return false;
      }
    });
    for (const g of [ana, ben, late]) assert.deepEqual(g.errors, [], "no script errors");
  } catch (e) {
    console.error(`engine output:\n${s.engine.output.slice(-6000)}\nrelay output:\n${relay.output.slice(-3000)}`);
    throw e;
  } finally {
    await browser.close();
    await stop(s.engine);
    await stop(relay);
  }
});

test("two relay nodes through Redis: the engine on one, guests on both; frames, previews and answers cross", async () => {
  const redis = await redisServer();
  const [pa, pb] = [await freePort(), await freePort()];
  const a = startRelay(pa, tempDir("shotline-node-a-"), "", redis.url);
  const b = startRelay(pb, tempDir("shotline-node-b-"), "", redis.url);
  await until("both nodes", async () => (await healthy(pa)) && (await healthy(pb)));
  // The studio publishes to node B only.
  const s = studio(pb, "cluster");
  for (let n = 1; n <= 2; n++) s.drop(`IMG_000${n}.JPG`, jpeg(1600, 1000, `N${n}`));
  await until("the engine", () => /running/i.test(s.engine.output), 60_000);
  const created = s.cli("share", "create", "--title", "Two nodes", "--ttl", "30m").trim().split("\n");
  const id = created[0];
  const linkB = created[created.length - 1];
  assert.ok(linkB.startsWith(`http://127.0.0.1:${pb}/g/${id}#`), linkB);
  // The same link on node A, which the engine never talks to.
  const linkA = linkB.replace(`127.0.0.1:${pb}`, `127.0.0.1:${pa}`);
  const browser = await launchChromium();
  try {
    const ana = await guest(browser, linkA, { viewport: { width: 1280, height: 900 } });
    const ben = await guest(browser, linkB, { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    for (const g of [ana, ben]) {
      await until("two frames, their previews from Redis", async () => (await loaded(g.page)) === 2);
    }
    // A frame shot now reaches node A's page live.
    s.drop("IMG_0003.JPG", jpeg(1600, 1000, "N3"));
    for (const g of [ana, ben]) {
      await until("the third frame, live", async () => (await loaded(g.page)) === 3);
      assert.deepEqual([...(await shown(g.page))].sort(), ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]);
    }
    for (const [g, name] of [[ana, "Ana"], [ben, "Ben"]]) {
      await giveName(g.page, name);
    }
    // Ana answers on node A; Ben, on node B, sees it live; the engine (on B) keeps it.
    const dialog = await open(ana.page, "IMG_0002.JPG");
    await dialog.getByRole("button", { name: "Rate 5 stars" }).click();
    await dialog.getByRole("button", { name: "Label green" }).click();
    await dialog.getByRole("textbox", { name: "Comment" }).fill("answered on node A");
    await dialog.getByRole("button", { name: "Send" }).click();
    await ben.page.getByRole("img", { name: "IMG_0002.JPG" }).click();
    await ben.page.getByRole("dialog", { name: "IMG_0002.JPG" }).waitFor();
    await until("Ana's comment on node B", async () => (await ben.page.locator("#comments li").count()) === 1);
    assert.equal(await ben.page.locator("#comments li .text").textContent(), "answered on node A");
    assert.match(await ben.page.locator("#marks-list").textContent(), /Ana: ★★★★★, green/);
    // Ben answers on node B; Ana sees it on node A.
    const benDialog = ben.page.getByRole("dialog", { name: "IMG_0002.JPG" });
    await benDialog.getByRole("button", { name: "Like" }).click();
    await until("Ben's like on node A", async () => (await ana.page.locator("#like-count").textContent()) === "1 like");

    let exported = [];
    await until("the studio's export", async () => {
      exported = JSON.parse(s.cli("share", "export", id, "--format", "json")).answers;
      return exported.length === 4;
    });
    assert.deepEqual(
      exported.map((x) => `${x.name} ${x.kind} ${x.value}`).sort(),
      ["Ana comment answered on node A", "Ana label green", "Ana rating 5", "Ben like true"],
    );
    const sidecar = join(s.dir, "library", "cluster", "IMG_0002.xmp");
    await until("the sidecar", async () => {
      try {
        const tags = JSON.parse(execFileSync("exiftool", ["-json", "-XMP:Rating", "-XMP:Label", sidecar]).toString())[0];
        return tags.Rating === 5 && tags.Label === "Green";
      } catch {
        return false;
      }
    });
    for (const g of [ana, ben]) assert.deepEqual(g.errors, [], "no script errors");
  } catch (e) {
    console.error(`engine output:\n${s.engine.output.slice(-6000)}\nnode A:\n${a.output.slice(-3000)}\nnode B:\n${b.output.slice(-3000)}`);
    throw e;
  } finally {
    await browser.close();
    await stop(s.engine);
    await stop(a);
    await stop(b);
    await stop(redis.child);
  }
});
