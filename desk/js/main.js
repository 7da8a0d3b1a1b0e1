// The desk's entry point: where the API is (config.json), what a release is (the API's OpenAPI
// document), and which view the address shows (#/releases, #/releases/ID, #/new, ...).

import { call, configure, openapi, session } from "./api.js";
import { composeView, savedContent } from "./compose.js";
import { announce, h, replace } from "./dom.js";
import { detailView, listView, signInView } from "./views.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let doc = null;
let current = null;
let pendingMessage = null;

function navigate(hash, message = null) {
  pendingMessage = message;
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function setTitle(text) {
  document.title = `${text} · Submitters' desk`;
}

function markNav(name) {
  for (const link of nav.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function revise(id, mode) {
  const { body: release } = await call("GET", `/releases/${encodeURIComponent(id)}`);
  return composeView(main, { doc, navigate, release, content: savedContent(id), mode });
}

async function route() {
  current?.stop?.();
  const [path, query = ""] = window.location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const message = pendingMessage;
  pendingMessage = null;
  const signedIn = Boolean(session.key());
  nav.hidden = !signedIn;
  if (!signedIn) {
    if (path !== "/sign-in") {
      window.location.replace("#/sign-in");
      return;
    }
    setTitle("Sign in");
    markNav(null);
    current = signInView(main, { navigate });
  } else if (path === "/new") {
    setTitle("New release");
    markNav("new");
    current = composeView(main, { doc, navigate });
  } else if (/^\/releases\/[^/]+\/(revise|correct)$/.test(path)) {
    const mode = path.split("/")[3];
    setTitle(mode === "correct" ? "Correct" : "Revise");
    markNav(null);
    current = await revise(path.split("/")[2], mode).catch((error) => {
      replace(main, h("p", { role: "alert" }, error.summary || error.message));
      return null;
    });
  } else if (/^\/releases\/[^/]+$/.test(path)) {
    setTitle("Release");
    markNav(null);
    current = detailView(main, { id: path.split("/")[2], navigate, message });
  } else if (path === "/releases") {
    setTitle("Your releases");
    markNav("releases");
    current = listView(main, { params });
    if (message) announce(message);
  } else {
    window.location.replace("#/releases");
    return;
  }
  current?.focus?.focus();
}

function signOut() {
  session.signOut();
  announce("Signed out. The key is forgotten.");
  navigate("#/sign-in");
}

async function boot() {
  document.getElementById("sign-out").addEventListener("click", signOut);
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    configure((await response.json()).api_url);
    doc = await openapi();
  } catch (error) {
    replace(main, 
      h("h1", {}, "The desk cannot start"),
      h("p", { role: "alert" }, `It could not read where the API is or what it accepts (${error.summary || error.message}). Reload the page to try again.`),
    );
    return;
  }
  window.addEventListener("hashchange", route);
  route();
}

boot();
