// The API client. The organisation's key lives in sessionStorage only (this tab, until sign-out
// or the tab closes), and goes only to the API's origin, in the Authorization header.

const STORAGE_PREFIX = "press-intake.desk.";
const KEY = `${STORAGE_PREFIX}key`;

let base = null; // the API's base URL, from config.json

export class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get fieldErrors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }

  // One sentence for a person: the problem's title and detail, and when to retry.
  get summary() {
    const { title, detail } = this.problem;
    const parts = [title, detail].filter(Boolean);
    let text = parts.length ? parts.join(": ") : `The API answered ${this.status}.`;
    if (this.retryAfter) text += ` Try again in ${this.retryAfter} s.`;
    return text;
  }
}

export function configure(apiUrl) {
  const url = new URL(apiUrl);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`not an API URL: ${apiUrl}`);
  base = url.href.replace(/\/+$/, "");
}

export function apiOrigin() {
  return new URL(base).origin;
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  // Forget everything this desk kept in the tab: the key and the drafts.
  signOut() {
    for (const name of Object.keys(sessionStorage)) {
      if (name.startsWith(STORAGE_PREFIX)) sessionStorage.removeItem(name);
    }
  },
  get: (name) => {
    try {
      return JSON.parse(sessionStorage.getItem(STORAGE_PREFIX + name) || "null");
    } catch {
      return null;
    }
  },
  set: (name, value) => sessionStorage.setItem(STORAGE_PREFIX + name, JSON.stringify(value)),
  remove: (name) => sessionStorage.removeItem(STORAGE_PREFIX + name),
};

function target(path) {
  if (!base) throw new Error("the API is not configured");
  const url = new URL(base + path);
  if (url.origin !== apiOrigin()) throw new Error("refusing to send the key anywhere but the API");
  return url;
}

async function problemOf(response) {
  const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
  if (type === "application/problem+json" || type === "application/json") {
    try {
      return await response.json();
    } catch {
      /* fall through */
    }
  }
  return { title: `HTTP ${response.status}`, detail: response.statusText || "The API refused the request." };
}

// method + path (+ JSON body) -> { status, headers, body }; a problem answer throws ApiError.
export async function call(method, path, { body, headers = {}, key = session.key(), signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal, cache: "no-store" };
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(target(path), init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      title: "The API cannot be reached",
      detail: "Check your connection and try again (or the API does not allow this page's origin).",
    });
  }
  if (!response.ok) {
    throw new ApiError(response.status, await problemOf(response), response.headers.get("Retry-After"));
  }
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

export async function openapi() {
  return (await call("GET", "/openapi.json", { key: null })).body;
}
