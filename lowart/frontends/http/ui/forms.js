// API errors on forms: the message next to the field the API names (error.param).

import { h } from "./dom.js";
import { showError } from "./errors.js";

export function clearFormErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** `options.bindings` -> the form part marked data-param="bindings" (or the form's top). */
export function showFormError(form, error) {
  clearFormErrors(form);
  const param = error && error.param ? String(error.param).split(".").pop() : null;
  const container = param ? form.querySelector(`[data-param="${CSS.escape(param)}"]`) : null;
  const message = h("p.field-error", { role: "alert" }, error.message || String(error));
  if (container) {
    const control = container.querySelector("input, select, textarea");
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
    container.append(message);
  } else {
    form.prepend(message);
  }
  showError(error);
}
