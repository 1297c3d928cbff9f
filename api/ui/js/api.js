// The REST API, called with the signed-in token. The token lives in this tab's
// sessionStorage only (gone when the tab closes), never in localStorage or a cookie.

const TOKEN_KEY = "treatfirst.token";
const GRANT_KEY = "treatfirst.grant";

/** A refusal of the API: its problem document (`code`, `detail`, extra members). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "error";
    this.problem = problem;
  }
}

/** What happens when the token stops being accepted (set by main.js). */
let onUnauthorized = () => {};

export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** The signed-in session: `{token, grant}`, or null. */
export function session() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const grant = sessionStorage.getItem(GRANT_KEY);
  if (!token || !grant) {
    return null;
  }
  try {
    return { token, grant: JSON.parse(grant) };
  } catch {
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(GRANT_KEY);
}

async function call(method, path, token, body, contentType) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) {
    headers["Content-Type"] = contentType;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    });
  } catch (cause) {
    throw new ApiError(0, { code: "network", detail: String(cause) });
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text };
  }
  if (!response.ok) {
    throw new ApiError(response.status, parsed || {});
  }
  return parsed;
}

/**
 * Signs in: asks the API who the token belongs to and keeps both for this tab.
 * @returns the grant (`{role, patient_id?, hospital_id?}`)
 */
export async function signIn(token) {
  const grant = await call("GET", "/v1/whoami", token);
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(GRANT_KEY, JSON.stringify(grant));
  return grant;
}

async function authorized(method, path, body, contentType) {
  const current = session();
  if (!current) {
    onUnauthorized();
    throw new ApiError(401, { code: "unauthorized", detail: "not signed in" });
  }
  try {
    return await call(method, path, current.token, body, contentType);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      onUnauthorized();
    }
    throw error;
  }
}

/** GET `path` with query parameters (undefined ones left out). */
export function get(path, parameters = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== "") {
      query.set(name, value);
    }
  }
  const text = query.toString();
  return authorized("GET", text ? `${path}?${text}` : path);
}

/** POST a text body (a CSV file) as `contentType`. */
export function postText(path, text, contentType) {
  return authorized("POST", path, text, contentType);
}

/** A path segment for an id (ids are `[A-Za-z0-9._:-]`; encoded anyway). */
export function segment(id) {
  return encodeURIComponent(id);
}
