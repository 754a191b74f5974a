// The zone editor: draw a polygon on the camera's picture (click to add points, or type
// them), name it, and keep it as a zone (with the classes it alerts on) or as a motion mask
// (an area motion detection ignores). Saved through PUT /cameras/{name} as
// zones: [{name, points: [[x, y], ...], classes}] and motion_masks: [{name, points}], points
// in frame fractions 0..1. Errors from the engine are shown with the field they name.

import { fetchImage, sendJson } from "./api.js";
import { $, drawZones, el, setOptions } from "./dom.js";
import { fitToPicture } from "./live.js";

const editor = { camera: null, zones: [], masks: [], draft: [], pictureUrl: null, classes: [],
                 version: () => null, saved: () => {} };

const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;

export function pointsText(points) {
  return points.map(([x, y]) => `${x},${y}`).join(" ");
}

// "0.1,0.2 0.5,0.2 ..." -> [[0.1, 0.2], ...]; null when a pair is not two numbers in 0..1.
export function parsePoints(text) {
  const pairs = text.trim() ? text.trim().split(/\s+/) : [];
  const points = [];
  for (const pair of pairs) {
    const [x, y, extra] = pair.split(",").map(Number);
    if (extra !== undefined || ![x, y].every((v) => Number.isFinite(v) && v >= 0 && v <= 1)) return null;
    points.push([x, y]);
  }
  return points;
}

function message(text, kind = "") {
  const node = $("zones-message");
  node.textContent = text;
  node.className = kind;
}

function listItem(area, kind, list) {
  const item = el("li", null, { "data-zone": area.name, class: kind });
  const what = kind === "zone" ? "zone" : "motion mask";
  const remove = el("button", "Remove", { type: "button", class: "secondary",
                                          "aria-label": `Remove ${what} ${area.name}` });
  remove.addEventListener("click", () => { list.splice(list.indexOf(area), 1); redraw(); });
  const detail = kind === "zone"
    ? `${area.classes.length ? area.classes.join(", ") : "all classes"}` : "motion ignored";
  item.append(el("strong", area.name), ` — ${area.points.length} points, ${detail} `, remove);
  return item;
}

function redraw() {
  drawZones($("zone-overlay"), editor.zones, { masks: editor.masks, draft: editor.draft });
  $("zone-points").value = pointsText(editor.draft);
  $("zone-undo").disabled = !editor.draft.length;
  $("zone-list").replaceChildren(...editor.zones.map((z) => listItem(z, "zone", editor.zones)),
                                 ...editor.masks.map((m) => listItem(m, "mask", editor.masks)));
  if (!editor.zones.length && !editor.masks.length) {
    $("zone-list").append(el("li", "No zones: the whole picture counts.", { class: "muted" }));
  }
}

const drawingMask = () => $("zone-kind-mask").checked;

async function loadPicture() {
  editor.loading = true;
  try { await showPicture(); } finally { editor.loading = false; }
}

async function showPicture() {
  const picture = $("zone-picture");
  const placeholder = $("zone-placeholder");
  if (editor.pictureUrl) { URL.revokeObjectURL(editor.pictureUrl); editor.pictureUrl = null; }
  picture.hidden = true;
  placeholder.hidden = false;
  placeholder.textContent = "Loading the picture…";
  const result = await fetchImage(
    `cameras/${encodeURIComponent(editor.camera.name)}/snapshot?width=960`);
  if (result.ok) {
    editor.pictureUrl = result.url;
    picture.src = result.url;
    picture.hidden = false;
    placeholder.hidden = true;
  } else {
    // Zones can still be drawn: the points are fractions of whatever frame the camera sends.
    placeholder.textContent = `${result.detail} — drawing on a blank frame`;
  }
}

function selectCamera(camera) {
  editor.camera = camera;
  editor.zones = (camera.zones || []).map((z) => ({ name: z.name, points: z.points.map((p) => [...p]),
                                                    classes: [...(z.classes || [])] }));
  editor.masks = (camera.motion_masks || []).map((m) => ({ name: m.name,
                                                           points: m.points.map((p) => [...p]) }));
  editor.draft = [];
  message("");
  redraw();
  loadPicture().catch(() => {});
}

function addPoint(event) {
  const rect = $("zone-stage").getBoundingClientRect();
  editor.draft.push([round((event.clientX - rect.left) / rect.width),
                     round((event.clientY - rect.top) / rect.height)]);
  redraw();
}

function addZone() {
  const name = $("zone-name").value.trim();
  const mask = drawingMask();
  const what = mask ? "motion mask" : "zone";
  const list = mask ? editor.masks : editor.zones;
  if (!name) { message(`Give the ${what} a name`, "error"); $("zone-name").focus(); return; }
  if (list.some((z) => z.name === name)) { message(`A ${what} named ${name} exists`, "error"); return; }
  if (editor.draft.length < 3) { message(`A ${what} needs at least 3 points`, "error"); return; }
  const classes = [...$("zone-classes").querySelectorAll("input:checked")].map((i) => i.value);
  list.push(mask ? { name, points: editor.draft } : { name, points: editor.draft, classes });
  editor.draft = [];
  $("zone-name").value = "";
  message(`${mask ? "Motion mask" : "Zone"} ${name} added — save to keep it`);
  redraw();
}

async function save() {
  const button = $("zones-save");
  button.disabled = true;
  try {
    const result = await sendJson(`cameras/${encodeURIComponent(editor.camera.name)}`, "PUT",
                                  { zones: editor.zones, motion_masks: editor.masks,
                                    config_version: editor.version() });
    message(result.restart_required ? "Saved — applies after a restart" : "Saved", "ok");
    editor.saved(result);
  } catch (err) {
    if (err.status === 409) message("Changed elsewhere — reload", "error");
    else if (err.status !== 401) message(err.describe ? err.describe() : err.message, "error");
  } finally {
    button.disabled = false;
  }
}

export function setupZones(openapi, { version, saved }) {
  $("zone-classes").disabled = drawingMask();
  editor.version = version;
  editor.saved = saved;
  const schemas = openapi.components.schemas;
  const zoneClasses = schemas.Zone && schemas.Zone.properties.classes;
  editor.classes = (zoneClasses || schemas.FilterConfig.properties.trigger_classes).items.enum;
  $("zone-classes").append(...editor.classes.map((cls) => {
    const label = el("label");
    label.append(el("input", null, { type: "checkbox", value: cls }), ` ${cls}`);
    return label;
  }));
  fitToPicture($("zone-stage"), $("zone-picture"));
  $("zone-stage").addEventListener("click", addPoint);
  $("zone-stage").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); addZone(); }
    if (event.key === "Backspace") { event.preventDefault(); editor.draft.pop(); redraw(); }
    if (event.key === "Escape") { editor.draft = []; redraw(); }
  });
  $("zone-points").addEventListener("change", () => {
    const points = parsePoints($("zone-points").value);
    if (points === null) { message("Points are x,y pairs between 0 and 1, separated by spaces", "error"); return; }
    editor.draft = points;
    message("");
    redraw();
  });
  for (const kind of ["zone", "mask"]) {
    $(`zone-kind-${kind}`).addEventListener("change", () => {
      $("zone-classes").disabled = drawingMask(); // a mask ignores motion of every class
    });
  }
  $("zone-undo").addEventListener("click", () => { editor.draft.pop(); redraw(); });
  $("zone-add").addEventListener("click", addZone);
  $("zones-save").addEventListener("click", save);
  $("zone-reload").addEventListener("click", () => loadPicture().catch(() => {}));
  $("zone-camera").addEventListener("change", () => {
    const camera = editor.cameras.find((c) => c.name === $("zone-camera").value);
    if (camera) selectCamera(camera);
  });
}

// With every /cameras answer: the camera list; the edited camera stays as the person left it.
export function updateZoneCameras(cameras) {
  editor.cameras = cameras;
  setOptions($("zone-camera"), cameras.map((c) => [c.name, c.name]));
  if (!editor.camera && cameras.length) { selectCamera(cameras[0]); return; }
  // No picture yet (the camera was starting or offline): try again once it streams.
  const now = editor.camera && cameras.find((c) => c.name === editor.camera.name);
  if (now && now.healthy && !editor.pictureUrl && !editor.loading) loadPicture().catch(() => {});
}

// After a save elsewhere: take the camera's zones from the engine again.
export function reloadZones(cameras) {
  const camera = editor.camera && cameras.find((c) => c.name === editor.camera.name);
  if (camera) selectCamera(camera);
}
