// The error banner: what the API said, shown on the page (never only in the console).

import { ApiError } from "./api.js";
import { clear, h } from "./dom.js";

let onSignedOut = () => {};

/** What to do when the API says the session is gone (the shell shows the sign-in form). */
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

export function showError(error) {
  const box = document.getElementById("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  clear(box, h("span", {}, message), h("button.link", { type: "button", "aria-label": "Dismiss error", on: { click: () => showError(null) } }, "×"));
  box.hidden = false;
  if (error instanceof ApiError && error.status === 401) onSignedOut();
}
