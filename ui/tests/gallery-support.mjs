// What the gallery's browser tests share: a relay, a studio running `shotline run`
// against it, frames made by ImageMagick (JPEGs, and RAW files built around an embedded
// JPEG preview), and a guest's browser page with the steps a guest takes.

import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELAY, SHOTLINE, dirs, start, until as waitUntil, mint } from "./support.mjs";

export const SECRET = "Yr+2QrFXleenT+ip/FtAM6sz/GSmCWZnAQ3lXc6y2vQ=";

export function relayToken(role, channels) {
  return mint(SECRET, role, channels);
}

/** The gallery's waits are longer: previews are made on the way. */
export function until(what, check, timeoutMs = 60_000) {
  return waitUntil(what, check, timeoutMs);
}

/** A JPEG of `width` × `height` with `label` on it, from ImageMagick. */
export function jpeg(width, height, label) {
  const hue = (label.length * 37 + label.charCodeAt(label.length - 1) * 11) % 360;
  return execFileSync("convert", [
    "-size", `${width}x${height}`,
    `gradient:hsl(${hue},55%,35%)-hsl(${(hue + 60) % 360},60%,60%)`,
    // A font that is there: ImageMagick's default (Helvetica, from Ghostscript's fonts)
    // is only a recommended package, which apt leaves out here.
    "-font", "DejaVu-Sans",
    "-gravity", "center", "-fill", "white", "-pointsize", String(Math.round(height / 5)),
    "-annotate", "0", label, "-quality", "85", "jpeg:-",
  ]);
}

export function u32le(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function u32be(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A TIFF-based RAW (as NEF, ARW, DNG are): a header, a small thumbnail, sensor data,
 *  and the full-size JPEG preview the camera embedded. */
export function tiffRaw(label) {
  const thumb = jpeg(160, 120, label);
  const big = jpeg(3008, 2000, label);
  return Buffer.concat([
    Buffer.from("II*\0"), u32le(8), Buffer.alloc(64, 0),
    thumb, Buffer.alloc(20_000, 0x5a), big, Buffer.alloc(30_000, 0xa5),
  ]);
}

/** A CR3-like ISO-BMFF file: `ftyp crx`, a `moov` box, and the preview inside a box. */
export function cr3(label) {
  const big = jpeg(2400, 1600, label);
  const box = (type, body) => Buffer.concat([u32be(8 + body.length), Buffer.from(type), body]);
  return Buffer.concat([
    box("ftyp", Buffer.from("crx \0\0\0\x01crx isom")),
    box("moov", Buffer.alloc(2000, 1)),
    box("uuid", Buffer.concat([Buffer.alloc(16, 7), big])),
    box("mdat", Buffer.alloc(40_000, 3)),
  ]);
}

/** A relay on `port` with its data folder; `redis` makes it a node of that cluster. */
export function startRelay(port, data, settings = "", redis = null) {
  const args = ["serve", "--listen", `127.0.0.1:${port}`, "--data", data];
  if (redis) args.push("--redis", redis);
  if (settings) {
    const file = join(data, "relay.toml");
    writeFileSync(file, settings);
    args.push("--config", file);
  }
  return start(RELAY, args, { SHOTLINE_RELAY_SECRET: SECRET });
}

export function studio(port, session = "acme-spring") {
  const dir = mkdtempSync(join(tmpdir(), "shotline-gallery-"));
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
  const env = {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, ".config"),
    SHOTLINE_RELAY_TOKEN: relayToken("publisher", "studio:*"),
  };
  const engine = start(SHOTLINE, ["run", "--config", config, "--session", session], env);
  const cli = (...args) =>
    execFileSync(SHOTLINE, [...args, "--config", config], { env: { ...process.env, ...env } }).toString();
  /** Drop a frame whole (written aside, then renamed in, as tethering tools do). */
  const drop = (name, bytes) => {
    const partial = join(dir, `.${name}`);
    writeFileSync(partial, bytes);
    renameSync(partial, join(hot, name));
  };
  return { dir, engine, cli, drop };
}

/** Frames: JPEGs, RAWs with embedded previews, and every so often a CR3. */
export function frame(n) {
  const label = String(n).padStart(4, "0");
  if (n % 5 === 0) return { name: `IMG_${label}.CR3`, bytes: cr3(label) };
  if (n % 2 === 0) return { name: `DSC_${label}.NEF`, bytes: tiffRaw(label) };
  return { name: `IMG_${label}.JPG`, bytes: jpeg(3000, 2000, label) };
}

export async function guest(browser, link, options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|WebSocket/.test(m.text())) errors.push(m.text());
  });
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(link);
  return { context, page, errors, requests };
}

/** Answer the page's name prompt with `name`. */
export async function giveName(page, name) {
  await page.getByRole("textbox", { name: "Your name" }).fill(name);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("textbox", { name: "Your name" }).waitFor({ state: "hidden" });
}

/** Open frame `name` large; its dialog. */
export async function open(page, name) {
  await page.getByRole("img", { name }).click();
  const dialog = page.getByRole("dialog", { name });
  await dialog.waitFor();
  return dialog;
}

/** The names of the frames a page shows, in order. */
export function shown(page) {
  return page.locator("#grid img").evaluateAll((imgs) => imgs.map((i) => i.alt));
}

/** How many thumbnails a page has loaded (blob: URLs decoded into pixels). */
export function loaded(page) {
  return page
    .locator("#grid img")
    .evaluateAll((imgs) => imgs.filter((i) => i.src.startsWith("blob:") && i.naturalWidth > 0).length);
}

