// Talking to lowart's JSON APIs as the signed-in key: the session cookie goes by
// itself (same origin), the CSRF token (kept only in this page's memory) goes in a header.

export const session = { csrf: null, name: null, admin: false };

export class ApiError extends Error {
  constructor(message, status, param) {
    super(message);
    this.status = status;
    this.param = param || null;
  }
}

async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`;
  let param = null;
  try {
    const body = await response.json();
    if (body && body.error) {
      message = body.error.message || message;
      param = body.error.param || null;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, response.status, param);
}

export function headers(extra = {}) {
  const found = { ...extra };
  if (session.csrf) found["X-CSRF-Token"] = session.csrf;
  return found;
}

/** fetch() as the session; a non-2xx answer throws ApiError with the API's message. */
export async function request(method, path, body, options = {}) {
  const init = { method, headers: headers(), credentials: "same-origin", ...options };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function api(method, path, body) {
  const response = await request(method, path, body);
  return response.status === 204 ? null : response.json();
}

export const get = (path) => api("GET", path);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Download a GET answer as a file (a plain link could not carry the CSRF header). */
export async function download(path, filename) {
  const response = await request("GET", path);
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function signIn(key) {
  const response = await fetch("/ui/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ key }),
    credentials: "same-origin",
  });
  if (!response.ok) throw await errorOf(response);
  Object.assign(session, await response.json());
}

/** The current session, if the cookie still names one (a reloaded page). */
export async function resume() {
  const response = await fetch("/ui/session", { credentials: "same-origin" });
  const body = await response.json();
  if (!body.signed_in) return false;
  Object.assign(session, body);
  return true;
}

export async function signOut() {
  try {
    await request("DELETE", "/ui/session");
  } finally {
    Object.assign(session, { csrf: null, name: null, admin: false });
  }
}
