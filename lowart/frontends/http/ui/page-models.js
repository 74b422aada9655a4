// Models: deployments (weight, vendor, kind, price, circuit, recent errors), their
// editing with a Lua script dry-run and ComfyUI workflow bindings, fallbacks and aliases.

import { api, get } from "./api.js";
import { clear, field, fmt, formValues, h, input, intOrNull, select, table } from "./dom.js";
import { clearFormErrors, showFormError } from "./forms.js";
import { aliasesCard } from "./models-aliases.js";

const VENDORS = ["openai", "anthropic", "mock", "comfyui"];
const BINDABLE = ["prompt", "negative_prompt", "seed", "steps", "cfg", "width", "height", "batch_size", "image"];
const PRICES = [["price_in", "Input price / 1M tokens"], ["price_cached", "Cached input price / 1M tokens"], ["price_out", "Output price / 1M tokens"], ["price_image", "Price per image"], ["currency", "Currency (e.g. USD)"]];

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error(`Could not read ${file.name}.`));
    reader.readAsText(file);
  });
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

function priceText(m) {
  const p = m.price;
  if (!p) return "—";
  const from = p.source === "table" ? " (table)" : "";
  if (p.image !== null && p.image !== undefined) return `${fmt.cost(p.image)} ${p.currency}/image${from}`;
  return `${fmt.cost(p.input)} / ${fmt.cost(p.output)} ${p.currency}${from}`;
}

/** A route's own rates (to edit), none when its price comes from the shipped table. */
function ownPrice(m) {
  const p = m.price && m.price.source !== "table" ? m.price : {};
  return { price_in: p.input, price_cached: p.cached, price_out: p.output, price_image: p.image, currency: p.currency };
}

/** The add/edit form; `model` is the deployment edited (undefined: a new one). */
function modelForm(ctx, { model, priced, onSaved, onCancel }) {
  const editing = Boolean(model);
  const m = model || { vendor: "openai", weight: 1, enabled: true, options: {} };
  const { workflow, bindings, ...otherOptions } = m.options || {};
  const scriptText = h("textarea", { name: "script", rows: 8, spellcheck: false, placeholder: "function request(payload, ctx)\n  return payload\nend" });
  const scriptFile = h("input", { type: "file", name: "script_file", accept: ".lua,text/plain" });
  const dryRun = h("div#script-dry-run", { "aria-live": "polite" });
  const workflowText = h("textarea", { name: "workflow", rows: 6, spellcheck: false, placeholder: '{"3": {"class_type": "KSampler", "inputs": {...}}}', value: workflow ? pretty(workflow) : "" });
  const workflowFile = h("input", { type: "file", name: "workflow_file", accept: ".json,application/json" });
  const bindingInputs = BINDABLE.map((b) => field(b, input(`bind_${b}`, { placeholder: "NODE.inputs.INPUT", value: bindings && bindings[b] ? bindings[b].join(", ") : "" })));
  const comfy = h("fieldset.field.comfy", { dataset: { param: "bindings" } }, h("legend", {}, "ComfyUI workflow"), field("Workflow (API format JSON)", workflowText), field("Upload workflow", workflowFile), h("fieldset", { id: "bindings" }, h("legend", {}, "Bind request values to workflow inputs"), h("div.grid", {}, bindingInputs)));
  const vendor = select("vendor", VENDORS, m.vendor);
  const form = h(
    "form#model-form.card",
    { "aria-label": editing ? `Edit ${m.name}` : "Add a model" },
    h("h2", {}, editing ? `Edit '${m.name}' (deployment ${m.id})` : "Add a model"),
    h(
      "div.grid",
      {},
      field("Name", input("name", { value: m.name || "", required: true, disabled: editing, autocomplete: "off" })),
      field("Vendor", vendor),
      field("Upstream model", input("upstream_model", { value: m.upstream_model || "" }), "Empty: the same as the name."),
      field("Base URL", input("base_url", { type: "url", value: m.base_url || "" })),
      field("Provider API key", input("api_key", { type: "password", autocomplete: "off" }), editing ? `Now: ${m.api_key || "none"}; empty keeps it.` : "Stored encrypted."),
      field("…or from environment variable", input("api_key_env", { value: "" })),
      field("Weight", input("weight", { type: "number", min: 0, value: m.weight })),
      field("Enabled", h("input", { type: "checkbox", name: "enabled", checked: m.enabled })),
      priced && PRICES.map(([name, label]) => field(label, input(name, { inputmode: name === "currency" ? "text" : "decimal", value: ownPrice(m)[name] ?? "" }))),
    ),
    field("Other options (JSON)", h("textarea", { name: "options", rows: 3, spellcheck: false, value: Object.keys(otherOptions).length ? pretty(otherOptions) : "" }), "Routing options such as timeouts and retries."),
    comfy,
    h("fieldset.field", { dataset: { param: "script" } }, h("legend", {}, "Lua transform"), editing && m.script && h("p", {}, `This deployment has a script (version ${m.script_version}). Leave empty to keep it.`), field("Script", scriptText), field("Upload script", scriptFile), editing && m.script && field("Remove the script", h("input", { type: "checkbox", name: "remove_script" })), h("button#dry-run", { type: "button" }, "Dry run"), dryRun),
    h("div.buttons", {}, h("button", { type: "submit" }, editing ? "Save" : "Add model"), h("button.link", { type: "button", on: { click: onCancel } }, "Cancel")),
  );
  const showComfy = () => {
    comfy.hidden = vendor.value !== "comfyui";
  };
  vendor.addEventListener("change", showComfy);
  showComfy();
  scriptFile.addEventListener("change", ctx.guard(async () => {
    if (scriptFile.files[0]) scriptText.value = await readFile(scriptFile.files[0]);
  }));
  workflowFile.addEventListener("change", ctx.guard(async () => {
    if (workflowFile.files[0]) workflowText.value = await readFile(workflowFile.files[0]);
  }));
  form.querySelector("#dry-run").addEventListener("click", ctx.guard(async () => {
    clearFormErrors(form);
    clear(dryRun, h("p.hint", {}, "Running…"));
    const result = await api("POST", "/admin/scripts/dry-run", { script: scriptText.value, vendor: vendor.value });
    clear(
      dryRun,
      h("p.ok", {}, `The script ran on ${result.results.length} sample payload(s) without errors.`),
      result.results.map((r) => h("details", {}, h("summary", {}, `${r.phase}: what it made of a sample`), h("div.pair", {}, h("pre", { "aria-label": "input" }, pretty(r.input)), h("pre", { "aria-label": "output" }, pretty(r.output))))),
    );
  }, (error) => { clear(dryRun); showFormError(form, error); }));

  const body = () => {
    const v = formValues(form);
    const out = {};
    if (!editing) out.name = v.name;
    out.vendor = v.vendor;
    for (const name of ["upstream_model", "base_url", "api_key", "api_key_env"]) if (v[name] !== null) out[name] = v[name];
    out.weight = intOrNull(v.weight, "weight") ?? 1;
    out.enabled = v.enabled;
    if (priced) for (const [name] of PRICES) out[name] = v[name];
    let options = {};
    if (v.options) {
      try {
        options = JSON.parse(v.options);
      } catch {
        throw Object.assign(new Error("'Other options' is not valid JSON."), { param: "options" });
      }
    }
    if (v.vendor === "comfyui") {
      if (v.workflow) {
        try {
          options.workflow = JSON.parse(v.workflow);
        } catch {
          throw Object.assign(new Error("The workflow is not valid JSON."), { param: "workflow" });
        }
      }
      const binds = {};
      for (const b of BINDABLE) if (v[`bind_${b}`]) binds[b] = v[`bind_${b}`].split(",").map((s) => s.trim()).filter(Boolean);
      options.bindings = binds;
    }
    if (Object.keys(options).length || editing) out.options = options;
    if (v.remove_script) out.script = null;
    else if (v.script) out.script = v.script;
    return out;
  };

  form.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const payload = body();
    if (editing) await api("PATCH", `/admin/models/${encodeURIComponent(m.name)}?deployment=${m.id}`, payload);
    else await api("POST", "/admin/models", payload);
    await onSaved();
  }, (error) => showFormError(form, error)));
  return form;
}

function fallbacksCard(ctx, fallbacks, refresh) {
  const form = h("form#fallback-form.controls", { "aria-label": "Add a fallback" }, field("Model", input("model", { required: true })), field("Falls back to", input("fallback", { required: true })), field("Priority", input("priority", { type: "number", value: "0" })), h("div.buttons", {}, h("button", { type: "submit" }, "Add fallback")));
  form.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    const v = formValues(form);
    await api("POST", "/admin/fallbacks", { model: v.model, fallback: v.fallback, priority: intOrNull(v.priority, "priority") ?? 0 });
    await refresh();
  }, (error) => showFormError(form, error)));
  const rows = fallbacks.map((f) =>
    h("tr", {}, h("td", {}, f.model), h("td", {}, f.fallback), h("td", {}, f.priority), h("td", {}, h("button.danger", { type: "button", on: { click: ctx.guard(async () => {
      await api("DELETE", `/admin/fallbacks?model=${encodeURIComponent(f.model)}&fallback=${encodeURIComponent(f.fallback)}`);
      await refresh();
    }) } }, "Remove"))),
  );
  return h("section.card", { id: "fallbacks" }, h("h2", {}, "Fallbacks"), rows.length ? table("Fallbacks", ["Model", "Falls back to", "Priority", "Actions"], rows) : h("p", {}, "No fallbacks."), form);
}

export async function modelsPage(ctx) {
  const list = h("div#models-list");
  const editor = h("div#model-editor");
  const fallbacks = h("div");
  const aliases = h("div");
  let models = [];

  const edit = (model) => {
    const priced = true; // routes have prices (per million tokens, or per image)
    clear(editor, modelForm(ctx, { model, priced, onCancel: () => clear(editor), onSaved: async () => { clear(editor); await refresh(); } }));
    editor.querySelector("input:not([disabled]), select").focus();
  };

  const row = (m, errors) =>
    h(
      "tr",
      { dataset: { model: m.name, deployment: m.id } },
      h("th", { scope: "row" }, m.name),
      h("td", {}, m.id),
      h("td", {}, m.vendor),
      h("td", {}, m.upstream_model),
      h("td", {}, m.vendor === "comfyui" ? "image" : "chat"),
      h("td.num", {}, m.weight),
      h("td", {}, priceText(m)),
      h("td", {}, h("span.badge", { dataset: { state: m.circuit } }, m.circuit)),
      h("td.num", {}, errors),
      h("td", {}, m.enabled ? "yes" : "no"),
      h("td", {}, m.script ? `v${m.script_version}` : "—"),
      h(
        "td.actions",
        {},
        h("button", { type: "button", on: { click: () => edit(m) } }, "Edit"),
        h("button", { type: "button", on: { click: ctx.guard(async () => {
          await api("PATCH", `/admin/models/${encodeURIComponent(m.name)}?deployment=${m.id}`, { enabled: !m.enabled });
          await refresh();
        }) } }, m.enabled ? "Disable" : "Enable"),
        m.circuit !== "closed" && h("button", { type: "button", on: { click: ctx.guard(async () => {
          await api("POST", `/admin/models/${encodeURIComponent(m.name)}/circuit/reset?deployment=${m.id}`);
          await refresh();
        }) } }, "Reset circuit"),
        h("button.danger", { type: "button", on: { click: ctx.guard(async () => {
          if (!window.confirm(`Remove deployment ${m.id} of '${m.name}'?`)) return;
          await api("DELETE", `/admin/models/${encodeURIComponent(m.name)}?deployment=${m.id}`);
          await refresh();
        }) } }, "Remove"),
      ),
    );

  const refresh = async () => {
    const [modelList, recent, edges, names] = await Promise.all([get("/admin/models"), get("/admin/usage/series?since=1h&by=model&step=3600"), get("/admin/fallbacks"), get("/admin/aliases")]);
    models = modelList.data;
    const rate = {};
    for (const s of recent.series) rate[s.group] = s.totals.requests ? `${((100 * s.totals.errors) / s.totals.requests).toFixed(1)}% of ${s.totals.requests}` : "—";
    const headers = ["Name", "Id", "Vendor", "Upstream model", "Kind", "Weight", "Price (in / out)", "Circuit", "Errors (1 h)", "Enabled", "Script", "Actions"];
    clear(list, models.length ? table("Deployments", headers, models.map((m) => row(m, rate[m.name] || "—"))) : h("p", {}, "No models yet."));
    clear(fallbacks, fallbacksCard(ctx, edges.data, refresh));
    clear(aliases, aliasesCard(ctx, names.data, [...new Set(models.map((m) => m.name))], refresh));
  };

  ctx.root.append(h("h1", {}, "Models"), h("div.buttons", {}, h("button#add-model", { type: "button", on: { click: () => edit(undefined) } }, "Add a model")), editor, list, fallbacks, aliases);
  await refresh();
}
