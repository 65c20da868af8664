// The desktop app end to end on a real window: the built `shotline-desktop` under Xvfb and
// a D-Bus session (`cargo xtask test` starts both), `trayer` hosting the tray, `dunst`
// taking notifications, driven through `tauri-driver` and WebKitWebDriver (W3C WebDriver
// over plain HTTP, no client library).
//
// A studio in a temporary folder: frames dropped into the hot folder appear in the window
// verified on both drives; a new session takes the next frames and is shared (a link and
// QR code that open the gallery, its proofing — PIN, watermark (text, logo, position, size,
// opacity), choose N, downloads, Extend — and Revoke that closes it); a drive pulled out
// raises a native notification (its `Notify`
// call is seen on the session bus) and turns the tray to its error state; Settings refuses
// a bad value with an error beside the field; a relay token goes to the keychain, never
// into the config file, and so does an SMTP password (the account without it is
// refused); with cameras turned on in Settings, the virtual camera's settings show with
// the values it takes, an aperture chosen is read back from the camera, and
// Capture (the button and F12) brings frames in; live view shows the camera's pictures
// in the panel, the focus buttons get the camera's answers, the grid and the session's
// layout overlay lie over the picture, and live view ends on the camera once the panel
// stops watching.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, jpeg, sleep, start, stopAll, until as untilFor, webdriver } from "./desktop-support.mjs";
import { liveView } from "./desktop-liveview.mjs";

const bin = process.env.SHOTLINE_DESKTOP_BIN;
const driverBin = process.env.TAURI_DRIVER ?? "tauri-driver";
const shots = process.env.SHOTLINE_SCREENSHOTS;
assert.ok(bin && fs.existsSync(bin), `SHOTLINE_DESKTOP_BIN must name the built app (${bin})`);
assert.ok(process.env.DISPLAY, "needs an X display (Xvfb)");
assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, "needs a D-Bus session (dbus-run-session)");

const root = fs.mkdtempSync(path.join(os.tmpdir(), "shotline-desktop-"));
const dirs = Object.fromEntries(["hot", "library", "b1", "b2", "home"].map((d) => [d, path.join(root, d)]));
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
const config = path.join(root, "config.toml");
fs.writeFileSync(config, [
  `[[hot_folder]]`, `path = ${JSON.stringify(dirs.hot)}`,
  // Thresholds far below any disk's free space: this machine's disk must not raise
  // library alerts into the tests of the tray's state.
  `[library]`, `path = ${JSON.stringify(dirs.library)}`, `naming = "{session}/{original}"`, `warn_below = "2MB"`, `critical_below = "1MB"`,
  `[[backup]]`, `name = "b1"`, `path = ${JSON.stringify(dirs.b1)}`,
  `[[backup]]`, `name = "b2"`, `path = ${JSON.stringify(dirs.b2)}`,
  `[camera]`, `enabled = false`, `liveview_idle = "2s"`,
  `[relay]`, `listen = "127.0.0.1:0"`, ``,
].join("\n"));

const until = (what, check, ms = 60000) => untilFor(what, check, ms, () => driver?.output); // the app's output on a timeout

start("dunst", []);
// A Secret Service for the keychain, unlocked (as a desktop login does).
const keyring = spawn("gnome-keyring-daemon", ["--unlock", "--components=secrets"], {
  env: { ...process.env, HOME: dirs.home },
  stdio: ["pipe", "ignore", "ignore"],
});
keyring.stdin.end("shotline-test");
await new Promise((r) => keyring.on("exit", r));
start("trayer", ["--edge", "top", "--align", "right", "--width", "10"]);
const monitor = start("dbus-monitor", ["--session", "interface='org.freedesktop.Notifications',member='Notify'"]);

// libgphoto2 with its virtual camera (`cargo xtask camera-sim`, which `cargo xtask test`
// runs first): a PTP "Nikon D750" whose card is `vcam`, off until a test turns cameras on.
const sim = process.env.SHOTLINE_CAMERA_SIM ?? path.join(os.homedir(), ".cache/shotline/libgphoto2");
assert.ok(fs.existsSync(path.join(sim, "iolibs/vusb.so")), `the virtual camera is not built at ${sim}: run cargo xtask camera-sim`);
const vcam = path.join(root, "vcam");
fs.mkdirSync(path.join(vcam, "DCIM/100TEST"), { recursive: true });

const appEnv = {
  ...process.env,
  IOLIBS: path.join(sim, "iolibs"),
  CAMLIBS: path.join(sim, "lib/libgphoto2/2.5.31"),
  LD_LIBRARY_PATH: path.join(sim, "lib"),
  VCAMERADIR: vcam,
  HOME: dirs.home,
  XDG_CONFIG_HOME: path.join(dirs.home, ".config"),
  XDG_DATA_HOME: path.join(dirs.home, ".local/share"),
  SHOTLINE_CONFIG: config,
  SHOTLINE_LOG: "info",
};
delete appEnv.SHOTLINE_RELAY_TOKEN;
const port = await freePort();
const nativePort = await freePort();
const driver = start(driverBin, ["--port", String(port), "--native-port", String(nativePort)], { env: appEnv });
const base = `http://127.0.0.1:${port}`;

const { wd, js, jsAsync, find, click, type, screenshot, bindSession } = webdriver(base, shots);

await until("tauri-driver", async () => (await fetch(`${base}/status`)).ok, 20000);
const session = await wd("POST", "/session", {
  capabilities: { alwaysMatch: { "tauri:options": { application: bin } } },
});
const sid = session.sessionId;
bindSession(sid);
after(async () => {
  try { await wd("DELETE", `/session/${sid}`); } catch { /* the app may be gone */ }
  stopAll();
  // The studio's folders (the large frame's copies among them) go with the run.
  fs.rmSync(root, { recursive: true, force: true });
});

test("frames dropped into the hot folder appear in the window, verified on each drive", async () => {
  await until("the engine running", async () => (await js("return document.getElementById('summary').textContent")).startsWith("All is well"));
  for (const name of ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]) {
    fs.writeFileSync(path.join(dirs.hot, name), jpeg(name));
  }
  const verified = () => js(`return document.querySelectorAll('.frame .badge.target[data-state="verified"]').length`);
  await until("3 frames verified on b1 and b2", async () => (await verified()) === 6);
  const names = await js("return Array.from(document.querySelectorAll('.frame')).map(f => f.dataset.name).sort()");
  assert.deepEqual(names, ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]);
  assert.equal(await js("return document.getElementById('stored-count').textContent"), "3");
  await until("thumbnails", async () => (await js("return Array.from(document.querySelectorAll('.frame img')).filter(i => i.src.startsWith('data:image/jpeg')).length")) === 3);
  await screenshot("desktop.png");
});

test("the window's regions; a large frame's copy shows a moving progress bar, then it is verified", async () => {
  const regions = await js("return Array.from(document.querySelectorAll('[role=region], section[aria-label]')).map(r => r.getAttribute('aria-label'))");
  for (const name of ["Session", "Totals", "Cameras", "Backup drives", "Uploads"]) assert.ok(regions.includes(name), `region ${name} in ${regions}`);
  assert.equal(await js("return document.getElementById('frames-heading').textContent"), "Frames");
  // The engine's first system_status comes a second after it starts.
  await until("the library's free space", async () => /^Library \d+(\.\d)? [KMGT]?B free/.test(await js("return document.getElementById('library-space')?.textContent ?? ''")));
  const big = path.join(root, "IMG_0100.JPG");
  const chunk = Buffer.alloc(1 << 20);
  const fd = fs.openSync(big, "w");
  for (let i = 0; i < 400; i += 1) {
    chunk.fill(i % 251);
    chunk.writeUInt32LE(i, 0);
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
  fs.renameSync(big, path.join(dirs.hot, "IMG_0100.JPG"));
  const seen = [];
  const deadline = Date.now() + 120000;
  let verified = 0;
  while (Date.now() < deadline) {
    const now = await js("const b = document.querySelector('#targets [role=progressbar][aria-label$=\" to b1\"]'); return b ? Number(b.getAttribute('aria-valuenow')) : null");
    if (now !== null && seen.at(-1) !== now) seen.push(now);
    verified = await js(`return document.querySelectorAll('.frame[data-name="IMG_0100.JPG"] .badge.target[data-state="verified"]').length`);
    if (verified === 2 && now === null) break;
    await sleep(50);
  }
  assert.equal(verified, 2, `not verified on both drives; bar values ${seen}`);
  assert.ok(seen.some((v) => v > 0 && v < 100), `no bar moving under 100 % seen: ${seen}`);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), `the bar went backwards: ${seen}`);
  assert.equal(await js("return document.querySelectorAll('#targets [role=progressbar]').length"), 0, "a bar left after the copies were verified");
});

test("New session… takes the next frames; Share session… gives a link and QR code that open the gallery; Revoke closes it", async () => {
  const today = await js("return document.getElementById('session-name').textContent");
  await click("#new-session");
  await type("#new-session-name", "Acme spring catalogue");
  await type("#new-session-client", "Acme");
  await type("#new-session-keywords", "spring, hats");
  await click("#start-session");
  await until("the new session", async () => (await js("return document.getElementById('session-name').textContent")) === "Acme spring catalogue");
  fs.writeFileSync(path.join(dirs.hot, "IMG_0004.JPG"), jpeg("IMG_0004.JPG"));
  await until("the frame in the new session's folder", async () =>
    fs.existsSync(path.join(dirs.library, "Acme spring catalogue", "IMG_0004.JPG")));
  // The session's metadata from the dialog is in the frame's sidecar.
  const [xmp] = JSON.parse(execFileSync("exiftool", ["-j", "-struct", "-XMP:all", path.join(dirs.library, "Acme spring catalogue", "IMG_0004.xmp")]).toString());
  assert.deepEqual(xmp.Licensee, [{ LicenseeName: "Acme" }], JSON.stringify(xmp));
  assert.deepEqual(xmp.Subject, ["spring", "hats"], JSON.stringify(xmp));
  assert.equal(await js("return document.getElementById('session').textContent"), "Acme spring catalogue");
  await until("the earlier session listed", async () =>
    (await js("return Array.from(document.querySelectorAll('#earlier-sessions option')).map(o => o.value)")).includes(today));

  await click("#share-session");
  const link = await until("the share link", async () => {
    const value = await js("return document.getElementById('share-link').value");
    return value.includes("/g/") ? value : false;
  });
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/g\/[a-z0-9]{12}#[\w.-]+$/);
  assert.match(await js("return document.getElementById('share-qr').src"), /^data:image\/svg\+xml;base64,/);
  assert.equal(await js("return document.getElementById('share-qr').hidden"), false);
  assert.match(await js("return document.getElementById('share-note').textContent"), /this computer only/);
  const [page, token] = link.split("#");
  assert.equal((await fetch(page)).status, 200);
  const channel = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).channels[0];
  const state = async () => {
    const res = await fetch(`${new URL(page).origin}/v1/blobs/${channel}/state.json`, { headers: { authorization: `Bearer ${token}` } });
    return res.ok ? (await res.json()).frames.map((f) => f.name) : [];
  };
  await until("the frame shared", async () => (await state()).includes("IMG_0004.JPG"));
  assert.deepEqual(await state(), ["IMG_0004.JPG"], "a share shows its own session only");
  // Proofing from the dialog: a PIN (the link alone opens nothing then), a watermark,
  // choose 1, web-size downloads; Extend 7 days.
  await type("#share-pin", "2468");
  await type("#share-watermark", "© Desk Studio");
  await type("#share-choose", "1");
  await js(`const s = document.getElementById('share-downloads'); s.value = 'web';`);
  await js(`document.getElementById('share-watermark-position').value = 'tiled';`);
  await type("#share-watermark-size", "30");
  await type("#share-watermark-opacity", "70");
  await click("#apply-proofing");
  await until("applied", async () => (await js("return document.getElementById('share-status').textContent")).startsWith("Applied"));
  assert.equal(await js("return document.getElementById('share-error').textContent"), "");
  // Read back from the journal (the dialog is drawn again from the share).
  assert.equal(await js("return document.getElementById('share-watermark-position').value"), "tiled");
  assert.equal(await js("return document.getElementById('share-watermark-size').value"), "30");
  assert.equal(await js("return document.getElementById('share-watermark-opacity').value"), "70");
  // A logo (the file picker is the system's: the path goes through the same command).
  const shareId = new URL(page).pathname.split("/").pop();
  const logo = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "docs", "desktop-camera.png");
  const applied = await jsAsync(
    "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('share_settings', { id: arguments[0], settings: { watermark: '© Desk Studio', logo: arguments[1], position: 'tiled', size: 30, opacity: 70, downloads: 'web', choose: '1' } }).then(() => done('ok'), (e) => done(String(e)));",
    shareId,
    logo,
  );
  assert.equal(applied, "ok");
  await click("#apply-proofing");
  await until("the logo shown", async () => /\.png$/.test(await js("return document.getElementById('share-logo-name').textContent")));
  await until("the link asks for the PIN", async () => {
    const res = await fetch(`${new URL(page).origin}/v1/blobs/${channel}/state.json`, { headers: { authorization: `Bearer ${token}` } });
    return res.status === 401 && (await res.json()).code === "pin_required";
  });
  assert.equal(await js("return document.getElementById('share-choose').value"), "1");
  assert.equal(await js("return document.getElementById('share-pin').placeholder"), "set (type to change)");
  const before = await js("return document.getElementById('share-status').textContent");
  await click("#extend-share");
  await until("extended", async () => (await js("return document.getElementById('share-status').textContent")) === "Extended.");
  assert.notEqual(before, "Extended.");
  await screenshot("desktop-share.png");
  await click("#revoke-share");
  await until("revoked", async () => (await js("return document.getElementById('share-status').textContent")).startsWith("Revoked"));
  await until("the link answers 410", async () => (await fetch(page)).status === 410);
  await click("#close-share");

  // Back to the earlier session.
  await js(`const s = document.getElementById('earlier-sessions'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));`, today);
  await until("the earlier session again", async () => (await js("return document.getElementById('session-name').textContent")) === today);
});

test("a shot list: a scanned code and Enter moves to the item, its views tick as frames come; an unknown code changes nothing", async () => {
  const csv = path.join(root, "list.csv");
  fs.writeFileSync(csv, "code,name,views\nSKU-7,Green scarf,front|back\n");
  // The file picker is the system's: the list goes in through the same command.
  const loaded = await jsAsync(
    "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('load_shotlist', { path: arguments[0] }).then((v) => done(v.items.length), (e) => done(String(e)));",
    csv,
  );
  assert.equal(loaded, 1, `the list loaded: ${loaded}`);
  // A USB barcode scanner types the code and Enter into the field.
  await type("#item-code", "SKU-7\uE007");
  await until("the item chosen", async () =>
    (await js("return document.getElementById('current-item').textContent")).includes("SKU-7 · Green scarf"));
  assert.match(await js("return document.getElementById('current-item').textContent"), /missing front, back/);
  fs.writeFileSync(path.join(dirs.hot, "IMG_0101.JPG"), jpeg("IMG_0101.JPG"));
  await until("the front view ticked", async () =>
    (await js("return Array.from(document.querySelectorAll('#current-item .view.shot')).map(v => v.textContent)")).join() === "✓ front");
  assert.match(await js("return document.getElementById('current-item').textContent"), /missing back/);
  await type("#item-code", "NOPE-1\uE007");
  await until("the unknown code shown", async () =>
    (await js("return document.getElementById('item-error').textContent")).includes("NOPE-1 is not on this session's shot list"));
  assert.match(await js("return document.getElementById('current-item').textContent"), /SKU-7/, "nothing changed");
  await screenshot("desktop-shotlist.png");
  await click("#item-none");
  await until("no item", async () =>
    (await js("return document.getElementById('current-item').textContent")).includes("No item"));
  // A click on an item of the list moves to it, as a scan does.
  await click('#shotlist-items li[data-code="SKU-7"] button');
  await until("the item chosen by a click", async () =>
    (await js("return document.getElementById('current-item').textContent")).includes("SKU-7 · Green scarf"));
  await click("#item-none");
});

test("a drive pulled out: a native notification on the session bus, the tray turns to error", async () => {
  fs.renameSync(dirs.b2, `${dirs.b2}.gone`);
  await until("the Notify call for b2", async () => monitor.output.includes("Backup b2 is offline"));
  await until("the window's state dot", async () => (await js("return document.getElementById('state-dot').dataset.state")) === "error");
  await until("the tray's error icon", async () => driver.output.includes("tray: tray-error.png"));
  assert.match(await js("return document.getElementById('summary').textContent"), /b2/);
  fs.renameSync(`${dirs.b2}.gone`, dirs.b2);
  await until("the tray back from error", async () => /tray: tray-(idle|working)\.png/.test(driver.output.split("tray: tray-error.png").pop()));
});

test("Settings refuses a bad value with an error beside its field", async () => {
  await click("#toggle-settings");
  await until("the settings form", async () => js("return !document.getElementById('settings').hidden"));
  await type("input[name=naming]", "{session}/{bogus}");
  await until("the naming error", async () => (await js(`return document.querySelector('[data-error-for="library.naming"]').textContent`)).includes("bogus"));
  await type("input[name=naming]", "{session}/{original}");
  await until("the example", async () => (await js("return document.getElementById('naming-example').textContent")) === "smith-wedding/DSC_0001.NEF");
  await type("input[name=relay_listen]", "nonsense");
  await click("#save");
  const message = await until("the relay.listen error", () => js(`return document.querySelector('[data-error-for="relay.listen"]').textContent`));
  assert.match(message, /nonsense/);
  assert.equal(await js(`return document.querySelector('input[name=relay_listen]').getAttribute('aria-invalid')`), "true");
  assert.ok(!fs.readFileSync(config, "utf8").includes("nonsense"), "nothing saved");
  await screenshot("desktop-settings.png");
});

test("a relay token saved in Settings is kept in the keychain, not in the config file", async () => {
  await type("input[name=relay_listen]", "127.0.0.1:0");
  await type("input[name=relay_token]", "token-not-for-files-42");
  await click("#save");
  await until("saved", async () => js("return !document.getElementById('saved').hidden"), 30000);
  assert.ok(!fs.readFileSync(config, "utf8").includes("token-not-for-files-42"), "the token is not in the config");
  await click("#toggle-settings");
  await click("#toggle-settings");
  await until("the stored mark", async () => (await js("return document.getElementById('relay-token-stored').textContent")).includes("keychain"));
  assert.equal(await js("return document.querySelector('input[name=relay_token]').value"), "", "a stored secret is never shown");
  const logs = driver.output;
  assert.ok(!logs.includes("token-not-for-files-42"), "nor in the log");
});

test("email in Settings: an account without its password is refused; the password goes to the keychain, the rest to [notify.email]", async () => {
  if (await js("return document.getElementById('settings').hidden")) await click("#toggle-settings");
  await until("the settings form", async () => js("return !document.getElementById('settings').hidden"));
  await click("input[name=email_on]");
  await type("input[name=email_server]", "127.0.0.1");
  await js("const s = document.querySelector('select[name=email_tls]'); s.value = 'none'; s.dispatchEvent(new Event('change'));");
  await type("input[name=email_username]", "studio");
  await type("input[name=email_from]", "Shotline <studio@example.com>");
  await type("input[name=email_to]", "producer@example.com, me@example.com");
  await click("#save");
  const message = await until("the password error", () => js(`return document.querySelector('[data-error-for="notify.email.password"]').textContent`));
  assert.match(message, /password/);
  assert.ok(!fs.readFileSync(config, "utf8").includes("notify.email"), "nothing saved");
  await type("input[name=smtp_password]", "smtp-secret-77");
  await click("#save");
  await until("saved", async () => js("return !document.getElementById('saved').hidden"), 30000);
  const saved = fs.readFileSync(config, "utf8");
  assert.match(saved, /\[notify\.email\]/);
  assert.match(saved, /producer@example\.com/);
  assert.match(saved, /username = "studio"/);
  assert.ok(!saved.includes("smtp-secret-77"), "the password is not in the config");
  await click("#toggle-settings");
  await click("#toggle-settings");
  await until("the stored mark", async () => (await js("return document.getElementById('smtp-password-stored').textContent")).includes("keychain"));
  assert.equal(await js("return document.querySelector('input[name=email_to]').value"), "producer@example.com, me@example.com");
  assert.ok(!driver.output.includes("smtp-secret-77"), "nor in the log");
});

test("cameras on in Settings: the camera's settings with its values, an aperture read back, Capture and F12 bring frames", async () => {
  fs.writeFileSync(path.join(vcam, "DCIM/100TEST/IMG_0001.JPG"), jpeg("on the card before".padEnd(24)));
  if (await js("return document.getElementById('settings').hidden")) await click("#toggle-settings");
  await until("the settings form", async () => js("return !document.getElementById('settings').hidden"));
  assert.equal(await js("return document.querySelector('input[name=camera_enabled]').checked"), false);
  await click("input[name=camera_enabled]");
  await click("#save");
  await until("saved", async () => js("return !document.getElementById('saved').hidden"), 30000);
  await click("#toggle-settings");
  await until("the camera connected", async () => /D750.*: connected/.test(await js("return document.getElementById('camera-lines').textContent")), 60000);

  // The virtual camera reports a shutter speed and an aperture (f-number), not ISO, white
  // balance or image format: those are said to be missing, not shown empty.
  const aperture = "#camera-controls select[data-setting=aperture]";
  await until("the aperture control", async () => js(`return !!document.querySelector(${JSON.stringify(aperture)})`));
  const shown = await js(`const s = document.querySelector(${JSON.stringify(aperture)});
    return { value: s.value, choices: Array.from(s.options).map(o => o.value), label: document.querySelector('label[for="' + s.id + '"]').textContent }`);
  assert.equal(shown.label, "Aperture");
  assert.equal(shown.value, "f/2.8");
  assert.ok(shown.choices.includes("f/5.6") && shown.choices.length > 10, `the camera's apertures: ${shown.choices}`);
  assert.ok(await js("return !!document.querySelector('#camera-controls select[data-setting=shutterspeed]')"), "a shutter speed control");
  assert.match(await js("return document.querySelector('#camera-controls .camera-missing').textContent"), /ISO/);
  await screenshot("desktop-camera.png");

  await click(`${aperture} option[value="f/5.6"]`);
  const status = `document.getElementById(document.querySelector(${JSON.stringify(aperture)}).getAttribute('aria-describedby'))`;
  const answer = await until("the camera's answer", async () => {
    const text = await js(`return ${status}.textContent`);
    return text && text !== "Setting…" ? text : false;
  });
  assert.equal(answer, "Set: f/5.6", "the value the camera read back");
  await until("the control showing the camera's value", async () => (await js(`return document.querySelector(${JSON.stringify(aperture)}).value`)) === "f/5.6");

  // Capture: the button, then the shortcut; each frame is taken in and verified on both drives.
  const taken = [];
  for (const how of ["button", "F12"]) {
    const before = await js("return document.getElementById('capture-status').textContent");
    // The same length each time: the virtual camera reads as many bytes as it first saw.
    fs.writeFileSync(path.join(vcam, "DCIM/100TEST/IMG_0001.JPG"), jpeg(`captured by ${how}`.padEnd(24)));
    if (how === "button") {
      await click("#capture");
    } else {
      await wd("POST", `/session/${sid}/actions`, { actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value: "\uE03C" }, { type: "keyUp", value: "\uE03C" }] }] });
    }
    const said = await until(`the capture's answer (${how})`, async () => {
      const text = await js("return document.getElementById('capture-status').textContent");
      return text && text !== "Capturing…" && text !== before ? text : false;
    });
    assert.doesNotMatch(said, /Not captured/, said);
    const name = said.trim().split("\n")[0];
    taken.push(name);
    await until(`${name} verified on b1 and b2`, async () =>
      (await js(`return document.querySelectorAll('.frame[data-name="${name}"] .badge.target[data-state="verified"]').length`)) === 2);
  }
  assert.equal(new Set(taken).size, 2, `two frames: ${taken}`);
  assert.ok(!taken.includes("IMG_0001.JPG"), "what was on the card before is left alone");
});

test("live view: the camera's pictures, focus answered by the camera, a grid and the session's layout overlay", () =>
  liveView({ js, jsAsync, click, until, screenshot, vcam, root, config }));
