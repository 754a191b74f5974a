// Clips: filters (camera, class, zone, day) over GET /clips, paging over all of them,
// thumbnails with the detection boxes drawn, and the player (scrolled into view).

import { api, apiKey, authHeaders, fetchImage } from "./api.js";
import { $, badge, el, option, row, setOptions, showError, when } from "./dom.js";

export const PAGE_SIZE = 12;
const view = { page: 1, zoneParam: null, thumbs: new Map(), objectUrl: null, shown: null,
               playing: null };

// -- filters -------------------------------------------------------------------------------

// The local calendar day as [since, until) in UTC, as the API's since/until expect.
export function dayBounds(dateValue) {
  const [y, m, d] = dateValue.split("-").map(Number);
  const start = new Date(y, m - 1, d);
  const end = new Date(y, m - 1, d + 1);
  return { since: start.toISOString(), until: end.toISOString() };
}

export function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function setupFilters(openapi, onChange) {
  const props = openapi.components.schemas.AlertPolicy.properties;
  $("filter-class").replaceChildren(option("", "any"),
    ...props.activity_types.items.enum.map((a) => option(a, a)));
  // A zone filter needs the engine to know zones; older engines have no such parameter.
  const params = openapi.paths["/api/v1/clips"].get.parameters.map((p) => p.name);
  view.zoneParam = params.includes("zone") ? "zone" : null;
  $("clip-filters").addEventListener("change", () => { view.page = 1; onChange(); });
  $("clip-filters").addEventListener("reset", () => {
    setTimeout(() => { view.page = 1; onChange(); }); // after the form has cleared
  });
  $("page-prev").addEventListener("click", () => { view.page -= 1; onChange(); });
  $("page-next").addEventListener("click", () => { view.page += 1; onChange(); });
}

export function updateFilterChoices(cameras) {
  setOptions($("filter-camera"), [["", "all cameras"], ...cameras.map((c) => [c.name, c.name])]);
  const zones = [...new Set(cameras.flatMap((c) => (c.zones || []).map((z) => z.name)))];
  setOptions($("filter-zone"), [["", "any zone"], ...zones.map((z) => [z, z])]);
  $("filter-zone").disabled = !zones.length; // no camera has zones: nothing to choose
}

const MAX_PAGES = 10; // at most 1000 clips are read to filter or draw in the browser

// Every clip matching `params` (newest first), page after page, up to MAX_PAGES of 100.
export async function allClips(params) {
  const clips = [];
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    params.set("page", page);
    params.set("page_size", 100);
    const list = await api(`clips?${params}`);
    clips.push(...list.clips);
    if (clips.length >= list.total || !list.clips.length) break;
  }
  return clips;
}

function query() {
  const params = new URLSearchParams({ page: view.page, page_size: PAGE_SIZE });
  const camera = $("filter-camera").value;
  const cls = $("filter-class").value;
  const zone = $("filter-zone").value;
  const day = $("filter-date").value;
  if (camera) params.set("camera", camera);
  if (cls) params.set("activity_type", cls);
  if (zone && view.zoneParam) params.set(view.zoneParam, zone);
  if (day) {
    const { since, until } = dayBounds(day);
    params.set("since", since);
    params.set("until", until);
  }
  return params;
}

// One page of the zone's clips when the engine cannot filter by zone: the clips carry the
// zones they alerted in, so the browser filters the other filters' answer and pages it.
async function zonePage(params, zone) {
  const matching = (await allClips(params)).filter((c) => (c.zones || []).includes(zone));
  const start = (view.page - 1) * PAGE_SIZE;
  return { clips: matching.slice(start, start + PAGE_SIZE), total: matching.length,
           page: view.page, page_size: PAGE_SIZE };
}

export async function loadClips() {
  const zone = $("filter-zone").value;
  const params = query();
  const list = zone && !view.zoneParam ? await zonePage(params, zone) : await api(`clips?${params}`);
  const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
  if (view.page > pages) { view.page = pages; return loadClips(); }
  // The same answer again (the 10 s refresh): leave the rows, and keyboard focus, alone.
  const key = JSON.stringify(list);
  if (key !== view.shown) renderClips(list, pages);
  view.shown = key;
  return list;
}

// -- thumbnails ----------------------------------------------------------------------------

// Boxes are frame fractions [x, y, w, h]: drawn on a canvas the size of the thumbnail.
export function drawBoxes(canvas, objects) {
  const { width, height } = canvas.getBoundingClientRect();
  canvas.width = Math.round(width * devicePixelRatio);
  canvas.height = Math.round(height * devicePixelRatio);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  let drawn = 0;
  ctx.lineWidth = 2 * devicePixelRatio;
  ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  for (const object of objects || []) {
    for (const [x, y, w, h] of object.boxes || []) {
      const px = x * canvas.width, py = y * canvas.height;
      ctx.strokeStyle = "#ff4020";
      ctx.strokeRect(px, py, w * canvas.width, h * canvas.height);
      const label = `${object.class} ${Math.round((object.confidence || 0) * 100)}%`;
      const textWidth = ctx.measureText(label).width + 6 * devicePixelRatio;
      const top = Math.max(0, py - 14 * devicePixelRatio);
      ctx.fillStyle = "#ff4020";
      ctx.fillRect(px, top, textWidth, 14 * devicePixelRatio);
      ctx.fillStyle = "#fff";
      ctx.fillText(label, px + 3 * devicePixelRatio, top + 11 * devicePixelRatio);
      drawn += 1;
    }
  }
  canvas.dataset.boxes = String(drawn);
}

function objectsText(clip) {
  if (Array.isArray(clip.objects) && clip.objects.length) {
    return clip.objects.map((o) => (o.count > 1 ? `${o.class} ×${o.count}` : o.class)).join(", ");
  }
  return (clip.detected_objects || []).join(", ");
}

function thumbnail(clip) {
  const box = el("div", null, { class: "thumb" });
  const canvas = el("canvas", null, { "aria-hidden": "true" });
  const img = el("img", null, { alt: `Snapshot of ${clip.camera} at ${when(clip.created_at)}` });
  const placeholder = el("span", "no snapshot", { class: "muted" });
  img.hidden = true;
  box.append(img, canvas, placeholder);
  const show = (url) => {
    img.addEventListener("load", () => drawBoxes(canvas, clip.objects), { once: true });
    img.src = url;
    img.hidden = false;
    placeholder.hidden = true;
  };
  const cached = view.thumbs.get(clip.id);
  if (cached) show(cached);
  else if (clip.storage_uri) {
    fetchImage(`clips/${encodeURIComponent(clip.id)}/snapshot`).then((result) => {
      if (!result.ok) return;
      view.thumbs.set(clip.id, result.url);
      show(result.url);
    }).catch(() => {});
  }
  return box;
}

function forgetThumbs(keep) {
  for (const [id, url] of view.thumbs) {
    if (!keep.has(id)) { URL.revokeObjectURL(url); view.thumbs.delete(id); }
  }
}

// -- the list ------------------------------------------------------------------------------

// alert: notified; detection: recorded and reviewable, not notified (an engine from before
// tiers sends none: its alerted flag stands in).
function tierText(clip) {
  const tier = clip.tier === undefined ? (clip.alerted ? "alert" : null) : clip.tier;
  return tier ? el("span", tier, { class: `tier tier-${tier}` }) : "–";
}

function renderClips(list, pages) {
  const body = $("clips").querySelector("tbody");
  forgetThumbs(new Set(list.clips.map((c) => c.id)));
  body.replaceChildren(...list.clips.map((clip) => {
    const button = el("button", "Play", { type: "button", class: "play",
                                          "aria-label": `Play ${clip.camera} ${when(clip.created_at)}` });
    button.disabled = !clip.view_url;
    button.addEventListener("click", () => play(clip).catch((e) => showError(e.message)));
    const tr = row([thumbnail(clip), when(clip.created_at), clip.camera, clip.status,
                    clip.activity_type, clip.risk_level ? badge(clip.risk_level) : "–",
                    objectsText(clip), clip.summary, tierText(clip), button]);
    tr.dataset.clip = clip.id;
    if (clip.id === view.playing) tr.setAttribute("aria-current", "true");
    return tr;
  }));
  if (!list.clips.length) body.append(row(["No clips match"]));
  const first = list.total ? (list.page - 1) * list.page_size + 1 : 0;
  const last = (list.page - 1) * list.page_size + list.clips.length;
  $("clips-total").textContent = `${first}–${last} of ${list.total} clips`;
  $("page-label").textContent = `Page ${list.page} of ${pages}`;
  $("page-prev").disabled = list.page <= 1;
  $("page-next").disabled = list.page >= pages;
}

// -- the player ----------------------------------------------------------------------------

export async function play(clip) {
  view.playing = clip.id;
  for (const tr of $("clips").querySelectorAll("tbody tr")) {
    if (tr.dataset.clip === clip.id) tr.setAttribute("aria-current", "true");
    else tr.removeAttribute("aria-current");
  }
  const player = $("player");
  player.hidden = false;
  $("player-title").textContent = `${clip.camera} — ${when(clip.created_at)}`
    + (clip.summary ? `: ${clip.summary}` : "");
  const video = $("video");
  if (view.objectUrl) { URL.revokeObjectURL(view.objectUrl); view.objectUrl = null; }
  // Bring the player to the person before the video loads (it may be below the list).
  player.scrollIntoView({ behavior: "smooth", block: "center" });
  const url = `api/v1/clips/${encodeURIComponent(clip.id)}/media`;
  if (apiKey()) {
    // A <video> cannot send the Authorization header: fetch the clip and play it locally.
    const response = await fetch(url, { headers: authHeaders() });
    if (!response.ok) { showError(`Cannot load the clip (HTTP ${response.status})`); return; }
    view.objectUrl = URL.createObjectURL(await response.blob());
    video.src = view.objectUrl;
  } else {
    video.src = url;
  }
  video.focus({ preventScroll: true });
}
