// Keys: create (the key shown once), limits, quota, allowed models, revoke, usage per key.

import { api, get, query } from "./api.js";
import { clear, field, fmt, formValues, h, input, intOrNull, select, table } from "./dom.js";
import { CHART_SETS, chartGrid, rangeControls } from "./page-overview.js";
import { showFormError } from "./forms.js";

const PERIODS = ["total", "day", "month"];

function limitsBody(v) {
  const body = {
    rpm: intOrNull(v.rpm, "rpm"),
    tpm: intOrNull(v.tpm, "tpm"),
    quota: intOrNull(v.quota, "quota"),
    quota_period: v.quota_period || "total",
    concurrency: intOrNull(v.concurrency, "concurrency"),
    models: v.models ? v.models.split(",").map((m) => m.trim()).filter(Boolean) : null,
  };
  if ("budget" in v) body.budget = v.budget;
  if ("budget_period" in v) body.budget_period = v.budget_period || "total";
  return body;
}

function limitFields(key = {}, withBudget = false) {
  return [
    field("Requests per minute", input("rpm", { type: "number", min: 1, value: key.rpm ?? "" })),
    field("Tokens per minute", input("tpm", { type: "number", min: 1, value: key.tpm ?? "" })),
    field("Token quota", input("quota", { type: "number", min: 1, value: key.quota_tokens ?? "" })),
    field("Quota period", select("quota_period", PERIODS, key.quota_period || "total")),
    field("Concurrent requests", input("concurrency", { type: "number", min: 1, value: key.concurrency ?? "" })),
    withBudget && field("Budget", input("budget", { inputmode: "decimal", value: key.budget ?? "" }), "Most the key may spend per budget period; empty: no budget."),
    withBudget && field("Budget period", select("budget_period", PERIODS, key.budget_period || "total")),
    field("Allowed models", input("models", { value: key.models ? key.models.join(", ") : "" }), "Comma-separated; empty: all models."),
  ];
}

export async function keysPage(ctx) {
  const list = h("div", { id: "keys-list" });
  const created = h("div", { id: "key-created", "aria-live": "polite" });
  const detail = h("div", { id: "key-detail" });
  const withBudget = true; // keys have budgets (a spending limit per period)

  const createForm = h("form#key-create.card", {});
  const renderCreate = () =>
    clear(
      createForm,
      h("h2", {}, "Create a key"),
      h("div.grid", {}, field("Name", input("name", { required: true, autocomplete: "off" })), field("Admin key", h("input", { type: "checkbox", name: "admin" })), limitFields({}, withBudget)),
      h("button", { type: "submit" }, "Create key"),
    );

  const showCreated = (key) => {
    const keyBox = h("input#new-key", { readonly: true, value: key.key, "aria-label": "The new key" });
    const status = h("span.hint", { "aria-live": "polite" });
    clear(
      created,
      h(
        "section.card.once",
        {},
        h("h2", {}, `Key '${key.name}' created`),
        h("p", {}, "Copy it now: it is shown only this once and cannot be read again."),
        h("div.row", {}, keyBox, h("button#copy-key", { type: "button", on: { click: ctx.guard(async () => {
          keyBox.select();
          try {
            await navigator.clipboard.writeText(key.key);
          } catch {
            document.execCommand("copy");
          }
          status.textContent = "Copied.";
        }) } }, "Copy"), status),
        h("button.link", { type: "button", on: { click: () => clear(created) } }, "Done, hide it"),
      ),
    );
  };

  createForm.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    const v = formValues(createForm);
    const body = { name: v.name, admin: v.admin, ...limitsBody(v) };
    const key = await api("POST", "/admin/keys", body);
    createForm.reset();
    showCreated(key);
    await refresh();
  }, (error) => showFormError(createForm, error)));

  const editForm = (key) => {
    const form = h("form.card.edit", { "aria-label": `Limits of ${key.name}` }, h("h2", {}, `Limits of '${key.name}'`), h("div.grid", {}, limitFields(key, withBudget)), h("button", { type: "submit" }, "Save limits"), h("button.link", { type: "button", on: { click: () => clear(detail) } }, "Cancel"));
    form.addEventListener("submit", ctx.guard(async (event) => {
      event.preventDefault();
      await api("PATCH", `/admin/keys/${encodeURIComponent(key.name)}`, limitsBody(formValues(form)));
      clear(detail);
      await refresh();
    }, (error) => showFormError(form, error)));
    return form;
  };

  const usageOf = (key) => {
    const charts = h("div");
    const draw = async () => {
      const data = await get("/admin/usage/series" + query({ ...range.params(), key: key.name }));
      clear(charts, chartGrid(data, CHART_SETS.traffic));
    };
    const range = rangeControls(ctx.guard(draw));
    clear(detail, h("section.card", { id: "key-usage" }, h("h2", {}, `Usage of '${key.name}'`), h("form.controls", { on: { submit: (e) => e.preventDefault() } }, range.elements), charts, h("button.link", { type: "button", on: { click: () => clear(detail) } }, "Close")));
    return draw();
  };

  const row = (key) =>
    h(
      "tr",
      { dataset: { key: key.name } },
      h("th", { scope: "row" }, key.name),
      h("td", {}, key.prefix + "…"),
      h("td", {}, key.admin ? "admin" : "user"),
      h("td", {}, fmt.opt(key.rpm)),
      h("td", {}, fmt.opt(key.tpm)),
      h("td", {}, key.quota_tokens ? `${fmt.int(key.quota_tokens)} / ${key.quota_period}` : "—"),
      h("td", {}, fmt.int(key.used_tokens)),
      withBudget && h("td", {}, key.budget ? `${fmt.cost(key.spent)} of ${fmt.cost(key.budget)} / ${key.budget_period}` : `${fmt.cost(key.spent)} spent`),
      h("td", {}, key.models ? key.models.join(", ") : "all"),
      h("td", {}, key.revoked_at ? `revoked ${fmt.time(key.revoked_at)}` : "active"),
      h(
        "td.actions",
        {},
        h("button", { type: "button", on: { click: ctx.guard(() => usageOf(key)) } }, "Usage"),
        !key.revoked_at && h("button", { type: "button", on: { click: () => { clear(detail, editForm(key)); detail.querySelector("input").focus(); } } }, "Limits"),
        !key.revoked_at && h("button.danger", { type: "button", on: { click: ctx.guard(async () => {
          if (!window.confirm(`Revoke the key '${key.name}'? Its requests are refused from now on.`)) return;
          await api("POST", `/admin/keys/${encodeURIComponent(key.name)}/revoke`);
          await refresh();
        }) } }, "Revoke"),
      ),
    );

  const refresh = async () => {
    const keys = (await get("/admin/keys")).data;
    const headers = ["Name", "Prefix", "Role", "RPM", "TPM", "Quota", "Used tokens", withBudget && "Spent / budget", "Models", "State", "Actions"].filter(Boolean);
    clear(list, table("API keys", headers, keys.map(row)));
  };

  renderCreate();
  ctx.root.append(h("h1", {}, "Keys"), created, createForm, detail, list);
  await refresh();
}
