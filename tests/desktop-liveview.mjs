// The desktop app's live view panel, end to end on the real window with the virtual
// camera connected (the camera test before it turned cameras on): the camera's pictures
// in the panel, focus buttons answered by the camera, a grid and the session's layout
// overlay over the picture, and live view ended on the camera once the panel stops
// watching (`liveview_idle` is 2 s in the test's config).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";

export async function liveView({ js, jsAsync, click, until, screenshot, vcam, root, config }) {
  // A picture to see: live view shows the card's JPEGs in turn, each read afresh (the
  // camera lists its card once, when opened), and the session's layout overlay as "Layout
  // overlay…" keeps it (the picker itself is native).
  execFileSync("convert", ["-size", "640x424", "gradient:#345-#9ab", "-font", "DejaVu-Sans", "-fill", "white",
    "-pointsize", "40", "-gravity", "center", "-annotate", "0", "live view", path.join(vcam, "DCIM/100TEST/IMG_0001.JPG")]);
  const cover = path.join(root, "cover.png");
  execFileSync("convert", ["-size", "640x424", "xc:none", "-fill", "none", "-stroke", "#e33", "-strokewidth", "8",
    "-draw", "rectangle 30,30 610,394", "-fill", "#e33", "-stroke", "none", "-font", "DejaVu-Sans", "-pointsize", "36",
    "-annotate", "+50+80", "COVER LINE", cover]);
  const invoke = "window.__TAURI_INTERNALS__.invoke('set_overlay', { path: arguments[0], opacity: arguments[1] })";
  const set = await jsAsync(`${invoke}.then(arguments[2], (e) => arguments[2](String(e)))`, cover, 0.7);
  assert.equal(set.opacity, 0.7, JSON.stringify(set));
  const refused = await jsAsync(`${invoke}.then(() => arguments[2]('taken'), (e) => arguments[2](String(e)))`, config, 0.5);
  assert.match(refused, /not a PNG/);

  await until("the live view panel", async () => js("return !document.getElementById('liveview').hidden"));
  await click("#live-toggle");
  const seq = () => js("const i = document.getElementById('live-picture'); return i.complete && i.naturalWidth > 0 ? Number(i.dataset.seq ?? 0) : 0");
  const first = await until("a live picture", async () => (await seq()) || false);
  await until("more pictures", async () => (await seq()) > first + 5);
  await until("live view on", async () => /Live from .*D750/.test(await js("return document.getElementById('live-status').textContent")));
  for (const [drive, said] of [["near 3", "moved near 3"], ["far 1", "moved far 1"], ["auto", "focused"]]) {
    await click(`[data-focus="${drive}"]`);
    await until(`the camera's answer to ${drive}`, async () => (await js("return document.getElementById('live-focus').textContent")) === said);
  }
  await js("const g = document.getElementById('live-grid'); g.value = 'thirds'; g.dispatchEvent(new Event('change'));");
  assert.equal(await js("return document.getElementById('live-grid-lines').className"), "grid-thirds");
  await until("the layout overlay over the picture", async () =>
    js("const o = document.getElementById('live-overlay'); return !o.hidden && o.complete && o.naturalWidth === 640 && o.style.opacity === '0.7'"));
  await until("the card's picture", async () => (await js("return document.getElementById('live-picture').naturalWidth")) === 640);
  // The panel's heading just under the window's sticky header.
  await js("const h = document.querySelector('header')?.offsetHeight ?? 0; window.scrollTo(0, document.getElementById('liveview').getBoundingClientRect().top + window.scrollY - h - 8)");
  await screenshot("desktop-liveview.png");

  // The panel stops watching: live view ends on the camera and the panel says why.
  await click("#live-toggle");
  await until("live view ended, with why", async () => /nobody watched/.test(await js("return document.getElementById('live-status').textContent")), 30000);
}
