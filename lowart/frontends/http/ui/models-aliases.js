// Models page: aliases (other names, and shell patterns like `claude-*`, that
// resolve to a route) and the default route (the alias `*`), over /admin/aliases.

import { api } from "./api.js";
import { field, formValues, h, input, select, table } from "./dom.js";
import { clearFormErrors, showFormError } from "./forms.js";

export const DEFAULT_ALIAS = "*";

function aliasPath(pattern) {
  return `/admin/aliases?pattern=${encodeURIComponent(pattern)}`;
}

/** Set (a route) or clear (none) the default route: what any other unknown name gets. */
function defaultForm(ctx, routes, current, refresh) {
  const choices = [["", "None: unknown names are refused"], ...routes];
  const form = h(
    "form#default-route-form.controls",
    { "aria-label": "Default route" },
    field("Default route", select("model", choices, current || "")),
    h("div.buttons", {}, h("button", { type: "submit" }, "Save default route")),
  );
  form.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const { model } = formValues(form);
    if (model) await api("POST", "/admin/aliases", { pattern: DEFAULT_ALIAS, model });
    else if (current) await api("DELETE", aliasPath(DEFAULT_ALIAS));
    await refresh();
  }, (error) => showFormError(form, error)));
  return form;
}

function addForm(ctx, routes, refresh) {
  const form = h(
    "form#alias-form.controls",
    { "aria-label": "Add an alias" },
    field("Name or pattern", input("pattern", { required: true, autocomplete: "off", spellcheck: "false", placeholder: "claude-*" })),
    field("Route", select("model", routes)),
    h("div.buttons", {}, h("button", { type: "submit" }, "Add alias")),
  );
  form.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const v = formValues(form);
    await api("POST", "/admin/aliases", { pattern: v.pattern, model: v.model });
    await refresh();
    document.querySelector("#alias-form input[name=pattern]")?.focus(); // the card was redrawn
  }, (error) => showFormError(form, error)));
  return form;
}

/** The aliases card: the list (default route marked), adding, removing, the default. */
export function aliasesCard(ctx, aliases, routes, refresh) {
  const current = aliases.find((a) => a.pattern === DEFAULT_ALIAS);
  const rows = aliases.map((a) => {
    const isDefault = a.pattern === DEFAULT_ALIAS;
    const remove = ctx.guard(async () => {
      await api("DELETE", aliasPath(a.pattern));
      await refresh();
    });
    return h(
      "tr",
      { dataset: { alias: a.pattern } },
      h("th", { scope: "row" }, h("code", {}, a.pattern), isDefault && " ", isDefault && h("span.badge", {}, "default route")),
      h("td", {}, a.model),
      h("td.actions", {}, h("button.danger", { type: "button", "aria-label": `Remove the alias ${a.pattern}`, on: { click: remove } }, "Remove")),
    );
  });
  return h(
    "section.card",
    { id: "aliases" },
    h("h2", {}, "Aliases and the default route"),
    h("p.hint", {}, "An alias is another name for a route: a model name, or a shell pattern (* ? [...]) such as claude-*. A route's own name always wins; then an exact alias, then the most specific pattern; the default route takes any other name."),
    rows.length ? table("Aliases", ["Name or pattern", "Route", "Actions"], rows) : h("p", {}, "No aliases."),
    addForm(ctx, routes, refresh),
    defaultForm(ctx, routes, current && current.model, refresh),
  );
}
