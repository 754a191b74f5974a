// Small DOM helpers shared by the views.

export const $ = (id) => document.getElementById(id);

export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

export function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? "–";
    tr.append(td);
  }
  return tr;
}

export function option(value, label, selected = false) {
  const node = el("option", label, { value });
  node.selected = selected;
  return node;
}

// Sets a <select>'s options [value, label] only when they changed, keeping the choice: the
// views re-render every few seconds and must not close a list someone has open.
export function setOptions(select, options) {
  const now = [...select.options].map((o) => `${o.value}\u0000${o.textContent}`).join("\u0001");
  const next = options.map(([v, l]) => `${v}\u0000${l}`).join("\u0001");
  if (now === next) return;
  const current = select.value;
  select.replaceChildren(...options.map(([v, l]) => option(v, l, v === current)));
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "never";
}

export function clock(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// A camera switched off is "disabled", not "offline": it was stopped on purpose.
export function cameraState(camera) {
  return !camera.enabled ? "disabled" : camera.healthy ? "online" : "offline";
}

export function badge(text) {
  const node = el("span", text, { class: "badge" });
  node.dataset.state = text;
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

// Zones and motion masks over a picture: polygons in a 0..1 SVG viewBox (points are frame
// fractions) and their names as HTML labels (SVG text would be stretched with the picture).
export function drawZones(overlay, zones, { masks = [], draft = null } = {}) {
  const layer = svg("svg", { viewBox: "0 0 1 1", preserveAspectRatio: "none", "aria-hidden": "true" });
  const labels = [];
  const areas = [...(masks || []).map((a) => [a, "mask"]), ...(zones || []).map((a) => [a, "zone"])];
  for (const [area, kind] of areas) {
    const points = area.points.map(([x, y]) => `${x},${y}`).join(" ");
    layer.append(svg("polygon", { points, class: kind }));
    const [x, y] = area.points[0] || [0, 0];
    const label = el("span", area.name, { class: `zone-label ${kind}` });
    label.style.left = `${(x * 100).toFixed(2)}%`;
    label.style.top = `${(y * 100).toFixed(2)}%`;
    labels.push(label);
  }
  if (draft && draft.length) {
    const points = draft.map(([x, y]) => `${x},${y}`).join(" ");
    layer.append(svg("polyline", { points, class: "draft" }));
    for (const [x, y] of draft) {
      layer.append(svg("circle", { cx: x, cy: y, r: 0.008, class: "draft-point" }));
    }
  }
  overlay.replaceChildren(layer, ...labels);
}
