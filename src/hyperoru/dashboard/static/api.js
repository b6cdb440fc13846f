// The REST client of the pages: the same /api every other client uses, with the session
// token in the Authorization header. The token lives in this tab's sessionStorage (kept
// across reloads of the tab, gone when the tab closes); it is never put in a URL.

const KEY = "hyperoru.session";
let token = sessionStorage.getItem(KEY);
const signedOutListeners = new Set();

export function sessionToken() {
  return token;
}

export function setSession(value) {
  token = value;
  sessionStorage.setItem(KEY, value);
}

export function forgetSession() {
  token = null;
  sessionStorage.removeItem(KEY);
  for (const listener of signedOutListeners) listener();
}

export function onSignedOut(listener) {
  signedOutListeners.add(listener);
}

export class ApiFailure extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `Request failed (${status})`);
    this.status = status;
    this.code = body && body.code;
    this.details = body && body.details;
  }
}

function request(method, path, body, accept, signal) {
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: "no-store", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

async function failure(response, path) {
  const data = await response.json().catch(() => null);
  if (response.status === 401 && token && !path.startsWith("/api/users/login")) {
    forgetSession();
  }
  return new ApiFailure(response.status, data);
}

export async function api(method, path, body) {
  const response = await request(method, path, body, "application/json");
  if (response.status === 204) return null;
  if (!response.ok) throw await failure(response, path);
  return response.json().catch(() => null);
}

// A POST answered with server-sent events: the open response, whose body the caller
// reads (EventSource cannot send the Authorization header). A refusal throws as api() does.
export async function postStream(path, body, signal) {
  const response = await request("POST", path, body, "text/event-stream", signal);
  if (!response.ok) throw await failure(response, path);
  return response;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);
