// Proofing end to end, in Debian's Chromium driven by Playwright, against a real
// `shotline-relay` and a real `shotline run`: a share made with a PIN, "choose 2" and
// web-size downloads. The link alone shows only the PIN prompt; a wrong PIN is refused
// and too many wrong ones are slowed down; with the PIN the guest sees the frames, the
// expiry and the "0 of 2" counter; picks count up, a third is refused, "Send my
// selection" locks the picks, the studio's `share picks` has them and its `share unlock`
// opens them again on the open page; the open frame downloads at web size (the bytes the
// share shows) and the picks as one ZIP; `share activity` has every step. A second share
// that allows originals hands its guest the library's file, byte for byte.
//
// The share's watermark is in the corner of the guests' pictures (pixels compared with
// the studio's clean preview) and gone, byte for byte, once `share set --no-watermark`.
//
// With SHOTLINE_SCREENSHOTS=DIR, the phone view of the protected share is saved there.
// Run by `cargo xtask test` (which builds the binaries and sets SHOTLINE_BIN_DIR).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, healthy, launchChromium, stop, tempDir } from "./support.mjs";
import { guest, jpeg, open, relayToken, startRelay, studio, until } from "./gallery-support.mjs";

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

test("a PIN-protected share: the prompt, picks up to the limit, a locked selection the studio unlocks, downloads", async () => {
  const port = await freePort();
  const data = tempDir("shotline-proofing-relay-");
  const relay = startRelay(port, data);
  await until("the relay", () => healthy(port));
  const s = studio(port);
  const names = ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"];
  names.forEach((name, i) => s.drop(name, jpeg(3000, 2000, String(i + 1))));
  const browser = await launchChromium();
  try {
    await until("the engine", () => /running/i.test(s.engine.output), 60_000);
    assert.throws(() => s.cli("share", "create", "--pin", "12"), /4 to 8/, "a PIN too short");
    const created = s
      .cli(
        "share", "create", "--title", "Proofs", "--ttl", "30m", "--pin", "2468", "--choose", "2", "--downloads", "web",
        "--watermark", "© Proof Studio", "--watermark-size", "40", "--watermark-opacity", "80",
      )
      .trim()
      .split("\n");
    const id = created[0];
    const link = created[created.length - 1];
    const base = link.slice(0, link.indexOf("/g/"));

    const ana = await guest(browser, link, PHONE);
    const page = ana.page;
    await page.getByRole("heading", { name: "This gallery asks for a PIN" }).waitFor();
    assert.equal(await page.locator("#grid img").count(), 0, "nothing shows before the PIN");
    await page.getByRole("textbox", { name: "Your name" }).fill("Ana");
    await page.getByLabel("PIN").fill("1111");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText("That PIN is not right").waitFor();
    await page.getByLabel("PIN").fill("2468");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("textbox", { name: "Your name" }).waitFor({ state: "hidden" });
    await until("three frames", async () => (await page.locator("#grid img").count()) === 3);
    assert.match(await page.locator("#expires").textContent(), /^Open until /);

    // The guests' pictures carry the watermark in their corner; the studio's are clean.
    const studioToken = relayToken("publisher", "studio:*");
    const bytesOf = async (path) =>
      Buffer.from(await (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${studioToken}` } })).arrayBuffer());
    // The thumbnails come first, the 2048 px previews after.
    const shared = await until("the previews", async () => {
      const state = await (await fetch(`${base}/v1/blobs/studio:gallery:${id}/state.json`, {
        headers: { authorization: `Bearer ${studioToken}` }, cache: "no-store",
      })).json();
      return state.frames.every((f) => f.preview) ? state : undefined;
    });
    const one = shared.frames.find((f) => f.name === "IMG_0001.JPG");
    const clean = await bytesOf(`/v1/blobs/studio:camera/${one.frame}-2048.jpg`);
    const marked = await bytesOf(one.preview);
    const difference = await page.evaluate(
      async ({ clean, marked }) => {
        const pixels = async (b64) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
          const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
          const context = canvas.getContext("2d");
          context.drawImage(bitmap, 0, 0);
          return context.getImageData(0, 0, bitmap.width, bitmap.height);
        };
        const [a, b] = [await pixels(clean), await pixels(marked)];
        const mean = (x0, y0, x1, y1) => {
          let sum = 0;
          let n = 0;
          for (let y = Math.floor(y0 * a.height); y < y1 * a.height; y++) {
            for (let x = Math.floor(x0 * a.width); x < x1 * a.width; x++) {
              const i = (y * a.width + x) * 4;
              sum += Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]);
              n += 3;
            }
          }
          return sum / n;
        };
        return { corner: mean(0.55, 0.85, 1, 1), elsewhere: mean(0, 0, 0.45, 0.6) };
      },
      { clean: clean.toString("base64"), marked: marked.toString("base64") },
    );
    assert.ok(difference.corner > 15, `the corner is watermarked: ${JSON.stringify(difference)}`);
    assert.ok(difference.elsewhere < 3, `the rest is the picture: ${JSON.stringify(difference)}`);

    // Choose 2: the counter, the limit, and sending.
    const count = () => page.locator("#pick-count").textContent();
    const send = page.getByRole("button", { name: "Send my selection" });
    assert.equal(await count(), "0 of 2");
    assert.equal(await send.isDisabled(), true);
    await page.getByRole("button", { name: "Pick IMG_0001.JPG" }).click();
    await until("1 of 2", async () => (await count()) === "1 of 2");
    await page.getByRole("button", { name: "Pick IMG_0003.JPG" }).click();
    await until("2 of 2", async () => (await count()) === "2 of 2");
    await page.getByRole("button", { name: "Pick IMG_0002.JPG" }).click();
    await page.getByText("You have picked 2, the most you can").waitFor();
    assert.equal(await count(), "2 of 2", "a third is not picked");
    if (process.env.SHOTLINE_SCREENSHOTS) {
      await page.screenshot({ path: join(process.env.SHOTLINE_SCREENSHOTS, "gallery-proofing-phone.png") });
    }
    await send.click();
    await page.getByText("Selection sent").waitFor();
    assert.equal(await page.getByRole("button", { name: "Pick IMG_0001.JPG" }).isDisabled(), true);

    // The studio has it, and unlocks it; the open page follows.
    const picks = await until("the studio's picks", () => {
      const text = s.cli("share", "picks", id);
      return /IMG_0001, IMG_0003/.test(text) ? text : undefined;
    });
    assert.match(picks, /Ana/);
    s.cli("share", "unlock", id, "Ana");
    await until("the page unlocked", async () => !(await page.getByRole("button", { name: "Pick IMG_0001.JPG" }).isDisabled()), 30_000);
    await page.getByRole("button", { name: "Pick IMG_0003.JPG" }).click();
    await until("1 of 2 again", async () => (await count()) === "1 of 2");

    // Downloads: the open frame at web size (the share's own picture), the picks as a ZIP.
    const dialog = await open(page, "IMG_0001.JPG");
    const [file] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Download" }).click()]);
    assert.equal(file.suggestedFilename(), "IMG_0001.jpg");
    assert.equal(await dialog.getByRole("button", { name: "Download original" }).isVisible(), false, "web size only");
    const saved = readFileSync(await file.path());
    const state = await (await fetch(`${base}/v1/blobs/studio:gallery:${id}/state.json`, {
      headers: { authorization: `Bearer ${relayToken("publisher", "studio:*")}` },
    })).json();
    const first = state.frames.find((f) => f.name === "IMG_0001.JPG");
    const preview = Buffer.from(await (await fetch(`${base}${first.preview}`, {
      headers: { authorization: `Bearer ${relayToken("publisher", "studio:*")}` },
    })).arrayBuffer());
    assert.ok(saved.equals(preview), "the download is the share's web-size picture");
    await dialog.getByRole("button", { name: "Close" }).click();
    const [zip] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download my picks" }).click()]);
    assert.equal(zip.suggestedFilename(), `${id}-picks.zip`);
    assert.equal(readFileSync(await zip.path()).subarray(0, 4).toString("latin1"), "PK\u0003\u0004");

    // A share that allows originals: the studio's computer sends the library's file, which
    // the guest saves byte for byte under its own name.
    const made = s.cli("share", "create", "--ttl", "30m", "--downloads", "originals").trim().split("\n");
    const bea = await guest(browser, made[made.length - 1], {});
    await until("Bea's frames", async () => (await bea.page.locator("#grid img").count()) === 3);
    const beaDialog = await open(bea.page, "IMG_0002.JPG");
    const [original] = await Promise.all([
      bea.page.waitForEvent("download", { timeout: 60_000 }),
      beaDialog.getByRole("button", { name: "Download original" }).click(),
    ]);
    assert.equal(original.suggestedFilename(), "IMG_0002.JPG");
    const library = readFileSync(join(s.dir, "library", "acme-spring", "IMG_0002.JPG"));
    assert.ok(readFileSync(await original.path()).equals(library), "the original, byte for byte");
    assert.deepEqual(bea.errors, [], "no script errors on Bea's page");

    // Someone guessing from the same network is slowed down.
    const guesser = await guest(browser, link, {});
    await guesser.page.getByRole("heading", { name: "This gallery asks for a PIN" }).waitFor();
    await guesser.page.getByRole("textbox", { name: "Your name" }).fill("Mallory");
    for (const pin of ["0000", "1234", "9999", "4321"]) {
      await guesser.page.getByLabel("PIN").fill(pin);
      await guesser.page.getByRole("button", { name: "Continue" }).click();
      await guesser.page.getByText(/That PIN is not right|Too many wrong PINs/).waitFor();
    }
    await guesser.page.getByLabel("PIN").fill("2468");
    await guesser.page.getByRole("button", { name: "Continue" }).click();
    await guesser.page.getByText("Too many wrong PINs").waitFor();

    // The watermark taken off: the guests' pictures are made again, clean.
    s.cli("share", "set", id, "--no-watermark");
    const again = await until("the clean pictures", async () => {
      const state = await (await fetch(`${base}/v1/blobs/studio:gallery:${id}/state.json`, {
        headers: { authorization: `Bearer ${studioToken}` }, cache: "no-store",
      })).json();
      const frame = state.frames.find((f) => f.name === "IMG_0001.JPG");
      return frame.preview !== one.preview ? frame : undefined;
    });
    assert.ok((await bytesOf(again.preview)).equals(clean), "the studio's own picture, byte for byte");

    const activity = await until("the activity", () => {
      const text = s.cli("share", "activity", id);
      return /downloaded/.test(text) && /a wrong PIN/.test(text) ? text : undefined;
    });
    for (const what of ["opened the gallery", "sent a selection of 2", "unlocked", "downloaded IMG_0001.jpg"]) {
      assert.match(activity, new RegExp(what), activity);
    }
    assert.deepEqual(ana.errors, [], "no script errors");
  } catch (e) {
    console.error(`engine output:\n${s.engine.output.slice(-6000)}\nrelay output:\n${relay.output.slice(-3000)}`);
    throw e;
  } finally {
    await browser.close();
    await stop(s.engine);
    await stop(relay);
  }
});
