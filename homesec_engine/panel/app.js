// HomeSec panel: plain JavaScript modules, no build step. Each view is a module:
// live.js (camera grid), clips.js (list, filters, player), timeline.js (the day per camera),
// zones.js (zone editor), policy.js (alert policy); api.js talks to the engine.

import { api, schema, setApiKey, whenUnauthorized } from "./api.js";
import { $, showError } from "./dom.js";
import { renderCameras } from "./live.js";
import { loadClips, setupFilters, today, updateFilterChoices } from "./clips.js";
import { loadTimeline } from "./timeline.js";
import { reloadZones, setupZones, updateZoneCameras } from "./zones.js";
import { policyLoaded, renderPolicy, setupPolicy } from "./policy.js";

const REFRESH_MS = 10000;
const app = { cameras: [], configVersion: null, ready: false };

function showKeyForm() {
  $("key-form").hidden = false;
  $("content").hidden = true;
}
whenUnauthorized(showKeyForm);

function setVersion(version) {
  app.configVersion = version;
  $("config-version").textContent = version;
}

function renderStatus(status) {
  const health = $("health");
  health.textContent = status.health.status;
  health.dataset.state = status.health.status;
  setVersion(status.config_version);
  $("restart-banner").hidden = !status.restart_required;
}

async function setup() {
  if (app.ready) return;
  const openapi = await schema();
  setupFilters(openapi, () => refreshClips().catch(reportError));
  setupPolicy(openapi, { cameras: () => app.cameras, onVersion: setVersion });
  setupZones(openapi, {
    version: () => app.configVersion,
    saved: async (result) => {
      setVersion(result.config_version);
      await refresh();
      reloadZones(app.cameras);
    },
  });
  $("filter-date").value = today();
  app.ready = true;
}

async function refreshClips() {
  await Promise.all([loadClips(), loadTimeline(app.cameras)]);
}

function reportError(err) {
  if (err.status === 401) return;
  if (err.status === 503) showError("The engine's database is unavailable; retrying…");
  else showError(`Cannot reach the engine: ${err.message}`);
}

async function refresh({ withPolicy = false } = {}) {
  try {
    const [status, cameras] = await Promise.all([api("status"), api("cameras")]);
    await setup();
    app.cameras = cameras.cameras;
    $("key-form").hidden = true;
    $("content").hidden = false;
    renderStatus(status);
    renderCameras(app.cameras);
    updateFilterChoices(app.cameras);
    updateZoneCameras(app.cameras);
    await refreshClips();
    if (withPolicy || !policyLoaded()) renderPolicy(await api("alert-policy"));
    showError("");
  } catch (err) {
    reportError(err);
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
  setApiKey($("key-input").value.trim());
  $("key-input").value = "";
  refresh({ withPolicy: true });
});
$("restart-button").addEventListener("click", restart);

refresh({ withPolicy: true });
setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
