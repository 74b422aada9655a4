// My key: what the signed-in key may do and what it used (any key sees its own).

import { get, query } from "./api.js";
import { clear, fmt, h } from "./dom.js";
import { CHART_SETS, chartGrid, rangeControls, totalsCards } from "./page-overview.js";

function row(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function resetsIn(seconds) {
  if (seconds === null || seconds === undefined) return "never (a total quota)";
  const hours = Math.floor(seconds / 3600);
  return hours >= 24 ? `in ${Math.floor(hours / 24)} d ${hours % 24} h` : `in ${hours} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export async function accountPage(ctx) {
  const me = await get("/self/account");
  const limits = h(
    "dl#account-limits.facts",
    {},
    row("Key", `${me.name} (${me.prefix}…)`),
    row("Role", me.admin ? "admin" : "user"),
    row("Requests per minute", fmt.opt(me.rpm)),
    row("Tokens per minute", fmt.opt(me.tpm)),
    row("Concurrent requests", fmt.opt(me.concurrency)),
    row("Quota", me.quota_tokens ? `${fmt.int(me.quota_used)} of ${fmt.int(me.quota_tokens)} tokens this ${me.quota_period === "total" ? "lifetime" : me.quota_period}` : `no quota (${fmt.int(me.quota_used)} tokens used)`),
    me.quota_tokens && row("Quota resets", resetsIn(me.quota_resets_in)),
    "budget" in me && row("Budget", me.budget ? `${fmt.cost(me.spent ?? 0)} spent of ${fmt.cost(me.budget)} (${me.budget_period === "total" ? "in total" : `per ${me.budget_period}`})` : `no budget (${fmt.cost(me.spent ?? 0)} spent)`),
    row("Models", me.models ? me.models.join(", ") : "all"),
  );
  const meters = [
    me.quota_tokens && h("meter", { min: 0, max: me.quota_tokens, value: me.quota_used, "aria-label": "Quota used" }),
    me.budget && h("meter#budget-meter", { min: 0, max: Number(me.budget), value: Number(me.spent || 0), "aria-label": "Budget spent" }),
  ];
  const totals = h("div");
  const charts = h("div");
  const draw = async () => {
    const data = await get("/self/usage/series" + query(range.params()));
    clear(totals, totalsCards(data.series[0] && data.series[0].totals));
    clear(charts, chartGrid(data, CHART_SETS.all));
  };
  const range = rangeControls(ctx.guard(draw));
  ctx.root.append(
    h("h1", {}, "My key"),
    h("section.card", {}, h("h2", {}, "Limits"), limits, meters),
    h("section.card", {}, h("h2", {}, "Usage"), h("form.controls", { on: { submit: (e) => e.preventDefault() } }, range.elements), totals, charts),
  );
  ctx.poll(draw, 10000);
}
