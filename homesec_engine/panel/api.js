// Talking to the engine. Every URL is relative (no leading "/"), so the panel works at the
// engine's root and under Home Assistant's ingress prefix (index.html then carries a <base>).

const KEY_STORAGE = "homesec.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }

  // "detail (path: message; ...)": the fields the engine named, for the person to fix.
  describe() {
    const details = (this.body.errors || []).map((e) => `${e.path}: ${e.message}`).join("; ");
    return details ? `${this.message} (${details})` : this.message;
  }
}

export function apiKey() { return sessionStorage.getItem(KEY_STORAGE); }
export function setApiKey(key) { sessionStorage.setItem(KEY_STORAGE, key); }

export function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) { onUnauthorized = handler; }

async function bodyOf(response) {
  if ((response.headers.get("content-type") || "").includes("application/json")) {
    return response.json();
  }
  return null;
}

export async function api(path, options = {}) {
  const headers = { ...authHeaders(), ...(options.headers || {}) };
  const response = await fetch(`api/v1/${path}`, { ...options, headers });
  const body = await bodyOf(response);
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export function sendJson(path, method, payload) {
  return api(path, { method, headers: { "Content-Type": "application/json" },
                     body: JSON.stringify(payload) });
}

// An image the API serves (an <img> cannot send the Authorization header): an object URL
// on success, else the status and the engine's reason. `signal` aborts a stale request.
export async function fetchImage(path, signal) {
  const response = await fetch(`api/v1/${path}`, { headers: authHeaders(), signal });
  if (!response.ok) {
    const body = await bodyOf(response).catch(() => null);
    if (response.status === 401) onUnauthorized();
    return { ok: false, status: response.status, detail: (body && body.detail) || `HTTP ${response.status}` };
  }
  return { ok: true, url: URL.createObjectURL(await response.blob()) };
}

let openapi = null;
// The engine's OpenAPI document: choices (risk levels, classes) and query parameters come
// from it, so the panel offers what this engine's schema accepts.
export async function schema() {
  openapi = openapi || await fetch("api/v1/openapi.json").then((r) => r.json());
  return openapi;
}
