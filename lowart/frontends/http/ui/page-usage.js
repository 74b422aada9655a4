// Usage explorer: the raw records, filtered, paged newest first, exported as CSV.

import { download, get, query, session } from "./api.js";
import { clear, field, fmt, formValues, h, input, select, table } from "./dom.js";

const INTERFACES = [["", "any"], "http", "grpc", "mcp", "a2a"];
const STATUSES = [["", "any"], "ok", "error", "cancelled"];

export async function usagePage(ctx) {
  const admin = session.admin;
  const base = admin ? "/admin/usage/search" : "/self/usage/records";
  const csv = admin ? "/admin/usage/export.csv" : "/self/usage/export.csv";
  const form = h(
    "form#usage-filters.controls",
    { "aria-label": "Filters" },
    admin && field("Key", input("key", { autocomplete: "off" })),
    field("Model", input("model", { autocomplete: "off" })),
    field("Interface", select("interface", INTERFACES, "")),
    field("Status", select("status", STATUSES, "")),
    field("From", input("since", { type: "datetime-local" })),
    field("To", input("until", { type: "datetime-local" })),
    field("Per page", select("limit", ["25", "50", "100", "500"], "50")),
    h("div.buttons", {}, h("button", { type: "submit" }, "Apply"), h("button#usage-csv", { type: "button" }, "Export CSV")),
  );
  const results = h("div#usage-results");
  const pager = h("div.pager");
  const stack = []; // `before` of each page shown before the current one
  let before = null;

  const filters = () => {
    const v = formValues(form);
    const iso = (s) => (s ? new Date(s).toISOString() : null);
    return { key: v.key, model: v.model, interface: v.interface, status: v.status, since: iso(v.since), until: iso(v.until) };
  };

  const load = async () => {
    const page = await get(base + query({ ...filters(), limit: formValues(form).limit, before }));
    const rows = page.data.map((r) =>
      h(
        "tr",
        { dataset: { id: r.id } },
        h("td", {}, fmt.time(r.created_at)),
        admin && h("td", {}, fmt.opt(r.key_name)),
        h("td", {}, r.route),
        h("td", {}, r.interface),
        h("td", {}, h("span.badge", { dataset: { state: r.status } }, r.status), r.error_code ? ` ${r.error_code}` : ""),
        h("td.num", {}, fmt.int(r.prompt_tokens)),
        h("td.num", {}, fmt.int(r.completion_tokens)),
        h("td.num", {}, fmt.ms(r.latency_ms)),
        h("td.num", {}, fmt.ms(r.ttft_ms)),
        h("td.num", {}, fmt.cost(r.cost)),
        h("td", {}, h("code", {}, r.request_id)),
      ),
    );
    const headers = ["Time", admin && "Key", "Model", "Interface", "Status", "Prompt", "Completion", "Latency", "TTFT", "Cost", "Request id"].filter(Boolean);
    clear(results, rows.length ? table("Usage records", headers, rows) : h("p#usage-empty", {}, "No records match."));
    clear(
      pager,
      h("button#usage-newer", { type: "button", disabled: !stack.length, on: { click: ctx.guard(async () => { before = stack.pop(); await load(); }) } }, "Newer"),
      h("button#usage-older", { type: "button", disabled: !page.next_before, on: { click: ctx.guard(async () => { stack.push(before); before = page.next_before; await load(); }) } }, "Older"),
    );
  };

  form.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    stack.length = 0;
    before = null;
    await load();
  }));
  form.querySelector("#usage-csv").addEventListener("click", ctx.guard(() => download(csv + query(filters()), "usage.csv")));
  ctx.root.append(h("h1", {}, admin ? "Usage records" : "My usage records"), form, results, pager);
  await load();
}
