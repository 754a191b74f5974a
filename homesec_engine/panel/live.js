// The camera grid: each camera's live picture, refreshed about once a second while the tab
// is visible (Page Visibility API), with its health; a placeholder says why when there is
// no picture (the engine answers 404 for sources without one, 503 when the camera is down).

import { fetchImage } from "./api.js";
import { $, badge, cameraState, drawZones, el, when } from "./dom.js";

const LIVE_MS = 1000;
const RETRY_MS = 5000;      // after a 503: the camera may come back
const NO_PICTURE_MS = 30000; // after a 404: this source has no live picture
const tiles = new Map();    // camera name -> tile

// Ask for the width the tile shows (device pixels): the engine scales, keeping the aspect.
function snapshotWidth(frame) {
  return Math.max(160, Math.min(1920, Math.round((frame.clientWidth || 480) * devicePixelRatio)));
}

// The picture box takes the camera's own aspect ratio, so zones (fractions of the frame)
// drawn over the box sit where they are in the frame.
export function fitToPicture(frame, img) {
  img.addEventListener("load", () => {
    if (img.naturalWidth && img.naturalHeight) {
      frame.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
    }
  });
}

function makeTile(name) {
  const figure = el("figure", null, { class: "camera", "data-camera": name });
  const frame = el("div", null, { class: "picture" });
  const img = el("img", null, { alt: `Live picture of ${name}` });
  img.hidden = true;
  const placeholder = el("div", null, { class: "placeholder", role: "img", "aria-label": `No picture of ${name}` });
  const overlay = el("div", null, { class: "zones" });
  frame.append(img, placeholder, overlay);
  fitToPicture(frame, img);
  const caption = el("figcaption");
  const title = el("strong", name);
  const state = badge("…");
  const synthetic = el("span", "synthetic scene", { class: "synthetic",
    title: "A drawn scene, not a camera: the demo runs on real footage once ./scripts/run has fetched it" });
  synthetic.hidden = true;
  const detail = el("span", "", { class: "muted updated" });
  caption.append(title, state, synthetic, detail);
  figure.append(frame, caption);
  const tile = { name, figure, frame, img, placeholder, overlay, state, synthetic, detail, camera: null,
                 timer: null, url: null, abort: null, updatedAt: null };
  return tile;
}

function setPicture(tile, url) {
  if (tile.url) URL.revokeObjectURL(tile.url);
  tile.url = url;
  tile.img.src = url;
  tile.img.hidden = false;
  tile.placeholder.hidden = true;
  tile.figure.dataset.live = "yes";
  tile.updatedAt = new Date();
  tile.detail.textContent = `updated ${tile.updatedAt.toLocaleTimeString()}`;
}

function setPlaceholder(tile, reason) {
  if (tile.url) { URL.revokeObjectURL(tile.url); tile.url = null; }
  tile.img.hidden = true;
  tile.placeholder.hidden = false;
  tile.placeholder.textContent = reason;
  tile.figure.dataset.live = "no";
  const camera = tile.camera;
  tile.detail.textContent = camera ? `last seen ${when(camera.last_heartbeat)}` : "";
}

async function refreshTile(tile) {
  tile.timer = null;
  const camera = tile.camera;
  if (!camera || document.hidden) return;
  if (!camera.enabled) {
    setPlaceholder(tile, "Camera switched off");
    return; // picked up again when it is switched on (renderCameras())
  }
  if (camera.live_picture === false) {
    // The engine says this source records files only (a watched folder): nothing to ask.
    setPlaceholder(tile, `No live picture: a ${camera.source_backend} source has none`);
    return;
  }
  const width = snapshotWidth(tile.frame);
  tile.abort = new AbortController();
  let next = LIVE_MS;
  try {
    const result = await fetchImage(
      `cameras/${encodeURIComponent(camera.name)}/snapshot?width=${width}`,
      tile.abort.signal);
    if (result.ok) setPicture(tile, result.url);
    else {
      setPlaceholder(tile, result.status === 404 ? `No live picture: ${result.detail}` : result.detail);
      next = result.status === 404 ? NO_PICTURE_MS : RETRY_MS;
    }
  } catch (err) {
    if (err.name === "AbortError") return;
    setPlaceholder(tile, "Cannot reach the engine");
    next = RETRY_MS;
  } finally {
    tile.abort = null;
  }
  if (!document.hidden && tiles.get(tile.name) === tile) schedule(tile, next);
}

function schedule(tile, delay) {
  clearTimeout(tile.timer);
  tile.timer = setTimeout(() => refreshTile(tile), delay);
}

function stop(tile) {
  clearTimeout(tile.timer);
  tile.timer = null;
  if (tile.abort) tile.abort.abort();
}

// Called with every /cameras answer: new tiles for new cameras, health updated in place
// (the pictures keep their own 1 s rhythm).
export function renderCameras(cameras) {
  const grid = $("cameras");
  const names = new Set(cameras.map((c) => c.name));
  for (const [name, tile] of tiles) {
    if (!names.has(name)) { stop(tile); tile.figure.remove(); tiles.delete(name); }
  }
  for (const camera of cameras) {
    let tile = tiles.get(camera.name);
    const fresh = !tile;
    if (fresh) { tile = makeTile(camera.name); tiles.set(camera.name, tile); }
    const wasEnabled = tile.camera && tile.camera.enabled;
    tile.camera = camera;
    const state = cameraState(camera);
    tile.state.textContent = state;
    tile.state.dataset.state = state;
    tile.figure.title = `${camera.name} (${camera.source_backend})`;
    tile.synthetic.hidden = !camera.synthetic;
    drawZones(tile.overlay, camera.zones, { masks: camera.motion_masks });
    grid.append(tile.figure); // keeps the engine's order
    if (fresh) setPlaceholder(tile, camera.enabled ? "Loading…" : "Camera switched off");
    if ((fresh || !wasEnabled) && camera.enabled && !tile.timer && !tile.abort) schedule(tile, 0);
  }
  $("cameras-empty").hidden = cameras.length > 0;
}

document.addEventListener("visibilitychange", () => {
  // Hidden: no more requests; visible again: fresh pictures at once.
  for (const tile of tiles.values()) {
    if (document.hidden) stop(tile);
    else if (tile.camera && tile.camera.enabled) schedule(tile, 0);
  }
});
