// A day timeline per camera: every clip of the chosen day as a mark on a 24-hour track;
// a mark plays its clip. Alerted clips stand out.

import { $, clock, el } from "./dom.js";
import { allClips, dayBounds, play, today } from "./clips.js";

let shown = null; // what is drawn: redrawn only when it changes (keeps keyboard focus)

async function clipsOfDay(day, cls) {
  const params = new URLSearchParams(dayBounds(day));
  if (cls) params.set("activity_type", cls);
  return allClips(params);
}

function mark(clip, start) {
  const at = new Date(clip.created_at);
  const fraction = Math.min(1, Math.max(0, (at - start) / 86400000));
  const label = `${clip.camera} ${clock(at)} ${clip.activity_type || clip.status}`;
  const button = el("button", null, { type: "button", class: "mark", "aria-label": `Play ${label}`,
                                      title: label, "data-clip": clip.id });
  if (clip.alerted) button.classList.add("alerted");
  button.style.left = `${(fraction * 100).toFixed(3)}%`;
  button.disabled = !clip.view_url;
  button.addEventListener("click", () => play(clip));
  return button;
}

export async function loadTimeline(cameras) {
  const day = $("filter-date").value || today();
  const clips = await clipsOfDay(day, $("filter-class").value);
  const start = new Date(dayBounds(day).since);
  const only = $("filter-camera").value;
  const key = JSON.stringify([day, only, cameras.map((c) => c.name), clips]);
  if (key === shown) return;
  shown = key;
  $("timeline-day").textContent = start.toLocaleDateString([], { dateStyle: "full" });
  const rows = cameras.filter((c) => !only || c.name === only).map((camera) => {
    const own = clips.filter((c) => c.camera === camera.name);
    const track = el("div", null, { class: "track", role: "group",
                                    "aria-label": `${camera.name}: ${own.length} clips` });
    for (let hour = 0; hour <= 24; hour += 6) {
      const tick = el("span", `${String(hour).padStart(2, "0")}:00`, { class: "tick", "aria-hidden": "true" });
      tick.style.left = `${(hour / 24) * 100}%`;
      track.append(tick);
    }
    track.append(...own.map((clip) => mark(clip, start)));
    const line = el("div", null, { class: "timeline-row", "data-camera": camera.name });
    line.append(el("span", camera.name, { class: "timeline-name" }), track,
                el("span", String(own.length), { class: "timeline-count muted" }));
    return line;
  });
  $("timeline").replaceChildren(...rows);
}
