// The dashboard shell: sign-in, navigation between pages (#/name), errors, polling.

import { resume, session, signIn, signOut } from "./api.js";
import { clear, h } from "./dom.js";
import { showError, whenSignedOut } from "./errors.js";

// Each page's module is fetched when the page is first shown, so a load of the
// overview waits for its own code only (index.html preloads that one).
const PAGES = [
  { path: "overview", title: "Overview", load: async () => (await import("./page-overview.js")).overviewPage },
  { path: "models", title: "Models", load: async () => (await import("./page-models.js")).modelsPage, admin: true },
  { path: "keys", title: "Keys", load: async () => (await import("./page-keys.js")).keysPage, admin: true },
  { path: "usage", title: "Usage", load: async () => (await import("./page-usage.js")).usagePage },
  { path: "playground", title: "Playground", load: async () => (await import("./page-playground.js")).playgroundPage },
  { path: "account", title: "My key", load: async () => (await import("./page-account.js")).accountPage },
];

const $ = (id) => document.getElementById(id);
let current = null; // {abort: AbortController} of the page on screen
let routing = 0; // counts navigations: a page whose code arrives after a later one is dropped

/** A page context: its root element, polling that stops when the page is left. */
function pageContext(root) {
  const abort = new AbortController();
  return {
    root,
    signal: abort.signal,
    abort,
    /** Run fn now and every `ms` while the page is shown (errors shown, never thrown). */
    poll(fn, ms) {
      let timer = null;
      const tick = async () => {
        try {
          await fn();
        } catch (error) {
          if (!abort.signal.aborted) showError(error);
        }
        if (!abort.signal.aborted) timer = setTimeout(tick, ms);
      };
      abort.signal.addEventListener("abort", () => clearTimeout(timer));
      tick();
    },
    /** Wrap an event handler: errors go to the error banner (or `onError`). */
    guard(fn, onError) {
      return async (event) => {
        try {
          showError(null);
          await fn(event);
        } catch (error) {
          if (onError) onError(error);
          else showError(error);
        }
      };
    },
  };
}

function renderNav() {
  const nav = $("nav");
  clear(
    nav,
    h(
      "ul",
      {},
      PAGES.filter((p) => !p.admin || session.admin).map((p) =>
        h("li", {}, h("a", { href: `#/${p.path}`, id: `nav-${p.path}` }, p.title)),
      ),
    ),
  );
  nav.hidden = false;
  $("who").textContent = `${session.name}${session.admin ? " (admin)" : ""}`;
  $("signout").hidden = false;
}

/** The page a location hash (#/name?...) names; the overview for anything else. */
function pageOf(hash) {
  const name = (hash.replace(/^#\/?/, "") || "overview").split("?")[0];
  return PAGES.find((p) => p.path === name) || PAGES[0];
}

async function route() {
  if (!session.csrf) return;
  const mine = ++routing;
  const page = pageOf(location.hash);
  const allowed = !page.admin || session.admin;
  let render = null;
  if (allowed) {
    try {
      render = await page.load();
    } catch (error) {
      if (mine === routing) showError(error);
      return;
    }
    if (mine !== routing || !session.csrf) return; // left (or signed out) meanwhile
  }
  if (current) current.abort.abort();
  const root = $("page");
  clear(root);
  showError(null);
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.id === `nav-${page.path}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${page.title} · lowart`;
  root.dataset.page = page.path;
  if (!allowed) {
    root.append(h("section.card", {}, h("h1", {}, page.title), h("p", {}, "This page needs an admin key.")));
    return;
  }
  current = pageContext(root);
  try {
    await render(current);
  } catch (error) {
    showError(error);
  }
}

function showSignIn() {
  routing++;
  if (current) current.abort.abort();
  current = null;
  clear($("page"));
  $("nav").hidden = true;
  $("signout").hidden = true;
  $("who").textContent = "";
  $("signin").hidden = false;
  $("signin-key").focus();
}

async function onSignIn(event) {
  event.preventDefault();
  const keyInput = $("signin-key");
  try {
    showError(null);
    await signIn(keyInput.value);
    keyInput.value = "";
    $("signin").hidden = true;
    renderNav();
    if (!location.hash) location.hash = "#/overview";
    else await route();
    $("main").focus();
  } catch (error) {
    showError(error);
  }
}

async function onSignOut() {
  try {
    await signOut();
  } catch (error) {
    showError(error);
  }
  showSignIn();
}

async function boot() {
  whenSignedOut(showSignIn);
  $("signin-form").addEventListener("submit", onSignIn);
  $("signout").addEventListener("click", onSignOut);
  window.addEventListener("hashchange", route);
  try {
    // The page's code is fetched while the session is asked for, not after it.
    const [signedIn] = await Promise.all([resume(), pageOf(location.hash).load().catch(() => null)]);
    if (signedIn) {
      renderNav();
      await route();
      return;
    }
  } catch (error) {
    showError(error);
  }
  showSignIn();
}

boot();
