// HomeSec panel: plain JavaScript, no build step. Every URL is relative (no leading "/"),
// so the page works at the engine's root and under Home Assistant's ingress prefix
// (index.html then carries <base href="{X-Ingress-Path}/">).
"use strict";

const KEY_STORAGE = "homesec.apiKey";
const REFRESH_MS = 10000;
const state = { configVersion: null, policy: null, cameras: [], choices: null, objectUrl: null };

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

function apiKey() { return sessionStorage.getItem(KEY_STORAGE); }

function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function api(path, options = {}) {
  const headers = { ...authHeaders(), ...(options.headers || {}) };
  const response = await fetch(`api/v1/${path}`, { ...options, headers });
  let body = null;
  if ((response.headers.get("content-type") || "").includes("application/json")) {
    body = await response.json();
  }
  if (response.status === 401) {
    showKeyForm();
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? "–";
    tr.append(td);
  }
  return tr;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "never";
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function showKeyForm() {
  $("key-form").hidden = false;
  $("content").hidden = true;
}

// -- cameras, health, version -------------------------------------------------------------

function renderStatus(status) {
  const health = $("health");
  health.textContent = status.health.status;
  health.dataset.state = status.health.status;
  $("config-version").textContent = status.config_version;
  $("restart-banner").hidden = !status.restart_required;
}

function renderCameras(cameras) {
  const body = $("cameras").querySelector("tbody");
  body.replaceChildren(...cameras.map((c) => {
    // A disabled camera is not offline: it was switched off on purpose.
    const state = !c.enabled ? "disabled" : c.healthy ? "online" : "offline";
    const badge = el("span", state, { class: "badge" });
    badge.dataset.state = state;
    return row([c.name, c.source_backend, c.enabled ? "yes" : "no", badge, when(c.last_heartbeat)]);
  }));
  if (!cameras.length) body.append(row(["No cameras configured"]));
}

// -- clips ---------------------------------------------------------------------------------

async function play(clip) {
  $("player").hidden = false;
  $("player-title").textContent = `${clip.camera} — ${when(clip.created_at)}`;
  const video = $("video");
  if (state.objectUrl) { URL.revokeObjectURL(state.objectUrl); state.objectUrl = null; }
  const url = `api/v1/clips/${encodeURIComponent(clip.id)}/media`;
  if (apiKey()) {
    // A <video> cannot send the Authorization header: fetch the clip and play it locally.
    const response = await fetch(url, { headers: authHeaders() });
    if (!response.ok) { showError(`Cannot load the clip (HTTP ${response.status})`); return; }
    state.objectUrl = URL.createObjectURL(await response.blob());
    video.src = state.objectUrl;
  } else {
    video.src = url;
  }
}

function renderClips(list) {
  const body = $("clips").querySelector("tbody");
  body.replaceChildren(...list.clips.map((clip) => {
    const button = el("button", "Play", { type: "button", class: "play" });
    button.disabled = !clip.view_url;
    button.addEventListener("click", () => play(clip).catch((e) => showError(e.message)));
    return row([when(clip.created_at), clip.camera, clip.status, clip.activity_type,
                clip.risk_level, (clip.detected_objects || []).join(", "), clip.summary,
                clip.alerted ? "yes" : "no", button]);
  }));
  if (!list.clips.length) body.append(row(["No clips yet"]));
  $("clips-total").textContent = `${list.clips.length} of ${list.total} clips`;
}

// -- alert policy --------------------------------------------------------------------------

async function loadChoices() {
  // The choices come from the engine's OpenAPI document, so they match its schema.
  const doc = await fetch("api/v1/openapi.json").then((r) => r.json());
  const props = doc.components.schemas.AlertPolicy.properties;
  return { risks: props.min_risk_level.enum, activities: props.activity_types.items.enum };
}

function option(value, label, selected) {
  const node = el("option", label, { value });
  node.selected = selected;
  return node;
}

function renderPolicy(view) {
  state.policy = view.alert_policy;
  state.configVersion = view.config_version;
  $("config-version").textContent = view.config_version;
  const policy = view.alert_policy;
  const { risks, activities } = state.choices;
  $("policy-min-risk").replaceChildren(...risks.map((r) => option(r, r, r === policy.min_risk_level)));
  const box = $("policy-activities");
  box.querySelectorAll("label").forEach((n) => n.remove());
  for (const activity of activities) {
    const input = el("input", null, { type: "checkbox", name: "activity", value: activity });
    input.checked = policy.activity_types.includes(activity);
    const label = el("label");
    label.append(input, ` ${activity}`);
    box.append(label);
  }
  const body = $("policy-cameras").querySelector("tbody");
  const names = [...new Set([...state.cameras.map((c) => c.name), ...Object.keys(policy.cameras)])];
  body.replaceChildren(...names.map((name) => {
    const override = policy.cameras[name] || {};
    const risk = el("select", null, { "data-camera": name, "data-field": "min_risk_level" });
    risk.append(option("", "inherit", !override.min_risk_level),
                ...risks.map((r) => option(r, r, r === override.min_risk_level)));
    const enabled = el("select", null, { "data-camera": name, "data-field": "enabled" });
    const on = override.enabled;
    enabled.append(option("", "inherit", on === undefined || on === null),
                   option("true", "on", on === true), option("false", "off", on === false));
    return row([name, risk, enabled]);
  }));
}

function policyFromForm() {
  const cameras = {};
  for (const [name, override] of Object.entries(state.policy.cameras)) cameras[name] = { ...override };
  for (const select of $("policy-cameras").querySelectorAll("select")) {
    const name = select.dataset.camera;
    const entry = cameras[name] || {};
    if (select.dataset.field === "min_risk_level") entry.min_risk_level = select.value || null;
    else entry.enabled = select.value === "" ? null : select.value === "true";
    cameras[name] = entry;
  }
  for (const [name, entry] of Object.entries(cameras)) {
    const meaningful = entry.min_risk_level || entry.enabled === true || entry.enabled === false
      || (entry.activity_types && entry.activity_types.length);
    if (!meaningful) delete cameras[name];
  }
  // The shape GET /alert-policy returned, edited: PUT takes the same one.
  return {
    config_version: state.configVersion,
    alert_policy: {
      min_risk_level: $("policy-min-risk").value,
      activity_types: [...$("policy-activities").querySelectorAll("input:checked")].map((i) => i.value),
      cameras,
    },
  };
}

function policyMessage(text, kind) {
  const node = $("policy-message");
  node.textContent = text;
  node.className = kind || "";
}

async function savePolicy(event) {
  event.preventDefault();
  $("policy-save").disabled = true;
  try {
    const result = await api("alert-policy", {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(policyFromForm()),
    });
    policyMessage("Saved", "ok");
    $("policy-reload").hidden = true;
    renderPolicy(await api("alert-policy"));
    $("config-version").textContent = result.config_version;
  } catch (err) {
    if (err.status === 409) {
      policyMessage("Changed elsewhere — reload", "error");
      $("policy-reload").hidden = false;
    } else if (err.status !== 401) {
      const details = (err.body.errors || []).map((e) => `${e.path}: ${e.message}`).join("; ");
      policyMessage(details ? `${err.message} (${details})` : err.message, "error");
    }
  } finally {
    $("policy-save").disabled = false;
  }
}

async function reloadPolicy() {
  renderPolicy(await api("alert-policy"));
  policyMessage("Reloaded", "");
  $("policy-reload").hidden = true;
}

// -- refresh loop --------------------------------------------------------------------------

async function refresh({ withPolicy = false } = {}) {
  try {
    const [status, cameras, clips] = await Promise.all([
      api("status"), api("cameras"), api("clips?page_size=20"),
    ]);
    state.cameras = cameras.cameras;
    $("key-form").hidden = true;
    $("content").hidden = false;
    renderStatus(status);
    renderCameras(cameras.cameras);
    renderClips(clips);
    if (withPolicy || state.policy === null) {
      state.choices = state.choices || await loadChoices();
      renderPolicy(await api("alert-policy"));
    }
    showError("");
  } catch (err) {
    if (err.status === 401) return;
    if (err.status === 503) showError("The engine's database is unavailable; retrying…");
    else showError(`Cannot reach the engine: ${err.message}`);
  }
}

async function restart() {
  $("restart-button").disabled = true;
  try {
    await api("system/restart", { method: "POST" });
    showError("Restarting…");
  } catch (err) {
    showError(`Restart failed: ${err.message}`);
  } finally {
    $("restart-button").disabled = false;
  }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("key-input").value.trim());
  $("key-input").value = "";
  refresh({ withPolicy: true });
});
$("policy-form").addEventListener("submit", savePolicy);
$("policy-reload").addEventListener("click", () => reloadPolicy().catch((e) => showError(e.message)));
$("restart-button").addEventListener("click", restart);

refresh({ withPolicy: true });
setInterval(() => refresh(), REFRESH_MS);
