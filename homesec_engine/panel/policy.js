// The alert policy form: lowest risk, activities, per-camera overrides; saved with the
// config_version it was read at (409: changed elsewhere, nothing overwritten).

import { api, sendJson } from "./api.js";
import { $, el, option, row } from "./dom.js";

const policyState = { policy: null, version: null, choices: null, cameras: () => [],
                      onVersion: () => {} };

export function setupPolicy(openapi, { cameras, onVersion }) {
  const props = openapi.components.schemas.AlertPolicy.properties;
  policyState.choices = { risks: props.min_risk_level.enum, activities: props.activity_types.items.enum };
  policyState.cameras = cameras;
  policyState.onVersion = onVersion;
  $("policy-form").addEventListener("submit", savePolicy);
  $("policy-reload").addEventListener("click", () => reloadPolicy());
}

export function policyLoaded() { return policyState.policy !== null; }

export function renderPolicy(view) {
  policyState.policy = view.alert_policy;
  policyState.version = view.config_version;
  policyState.onVersion(view.config_version);
  const policy = view.alert_policy;
  const { risks, activities } = policyState.choices;
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
  const names = [...new Set([...policyState.cameras().map((c) => c.name), ...Object.keys(policy.cameras)])];
  body.replaceChildren(...names.map((name) => {
    const override = policy.cameras[name] || {};
    const risk = el("select", null, { "data-camera": name, "data-field": "min_risk_level",
                                      "aria-label": `${name}: lowest risk` });
    risk.append(option("", "inherit", !override.min_risk_level),
                ...risks.map((r) => option(r, r, r === override.min_risk_level)));
    const enabled = el("select", null, { "data-camera": name, "data-field": "enabled",
                                         "aria-label": `${name}: alerts` });
    const on = override.enabled;
    enabled.append(option("", "inherit", on === undefined || on === null),
                   option("true", "on", on === true), option("false", "off", on === false));
    return row([name, risk, enabled]);
  }));
}

function policyFromForm() {
  const cameras = {};
  for (const [name, override] of Object.entries(policyState.policy.cameras)) cameras[name] = { ...override };
  for (const select of $("policy-cameras").querySelectorAll("select")) {
    const name = select.dataset.camera;
    const entry = cameras[name] || {};
    if (select.dataset.field === "min_risk_level") entry.min_risk_level = select.value || null;
    else entry.enabled = select.value === "" ? null : select.value === "true";
    cameras[name] = entry;
  }
  for (const [name, entry] of Object.entries(cameras)) {
    const meaningful = entry.min_risk_level || entry.enabled === true || entry.enabled === false
      || (entry.activity_types && entry.activity_types.length)
      || (entry.alert_classes && entry.alert_classes.length)
      || (entry.zones && Object.keys(entry.zones).length);
    if (!meaningful) delete cameras[name];
  }
  // The shape GET /alert-policy returned, edited: PUT takes the same one (PUT replaces the
  // policy whole, so what this form does not show, the tiers' alert_classes, is sent back
  // as it was read).
  return {
    config_version: policyState.version,
    alert_policy: {
      ...policyState.policy,
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
    const result = await sendJson("alert-policy", "PUT", policyFromForm());
    policyMessage("Saved", "ok");
    $("policy-reload").hidden = true;
    renderPolicy(await api("alert-policy"));
    policyState.onVersion(result.config_version);
  } catch (err) {
    if (err.status === 409) {
      policyMessage("Changed elsewhere — reload", "error");
      $("policy-reload").hidden = false;
    } else if (err.status !== 401) {
      policyMessage(err.describe ? err.describe() : err.message, "error");
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
