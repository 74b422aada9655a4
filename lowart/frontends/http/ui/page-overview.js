// Overview: traffic over time, split by a dimension, and what runs right now.

import { get, query, session } from "./api.js";
import { lineChart, paintSwatches } from "./chart.js";
import { clear, field, fmt, h, input, select, table } from "./dom.js";

export const RANGES = [
  ["1h", "Last hour"],
  ["24h", "Last day"],
  ["7d", "Last week"],
  ["custom", "Custom"],
];

const CHARTS = [
  ["requests", "Requests", (p) => p.requests, fmt.int],
  ["tokens", "Tokens", (p) => p.total_tokens, fmt.int],
  ["cost", "Cost", (p) => Number(p.cost), fmt.cost],
  ["errors", "Errors", (p) => p.errors, fmt.int],
  ["p50-latency", "Latency p50 (ms)", (p) => p.p50_latency_ms, fmt.int],
  ["p95-latency", "Latency p95 (ms)", (p) => p.p95_latency_ms, fmt.int],
  ["p50-ttft", "Time to first token p50 (ms)", (p) => p.p50_ttft_ms, fmt.int],
  ["p95-ttft", "Time to first token p95 (ms)", (p) => p.p95_ttft_ms, fmt.int],
];

/** The range controls (shared with the key and account charts). */
export function rangeControls(onChange) {
  const range = select("range", RANGES, "1h");
  const since = input("since", { type: "datetime-local" });
  const until = input("until", { type: "datetime-local" });
  const custom = h("div.custom", { hidden: true }, field("From", since), field("To", until));
  range.addEventListener("change", () => {
    custom.hidden = range.value !== "custom";
    onChange();
  });
  since.addEventListener("change", onChange);
  until.addEventListener("change", onChange);
  const params = () => {
    if (range.value !== "custom") return { since: range.value };
    const iso = (el) => (el.value ? new Date(el.value).toISOString() : null);
    return { since: iso(since) || "1h", until: iso(until) };
  };
  return { elements: [field("Period", range), custom], params };
}

function stat(id, label, value) {
  return h("div.stat", { id }, h("span.label", {}, label), h("span.value", {}, value));
}

export function totalsCards(totals) {
  const t = totals || {};
  return h(
    "div.stats",
    {},
    stat("stat-requests", "Requests", fmt.int(t.requests || 0)),
    stat("stat-tokens", "Tokens", fmt.int(t.total_tokens || 0)),
    stat("stat-cost", "Cost", fmt.cost(t.cost || 0)),
    stat("stat-errors", "Errors", fmt.int(t.errors || 0)),
    stat("stat-p50", "Latency p50", fmt.ms(t.p50_latency_ms)),
    stat("stat-p95", "Latency p95", fmt.ms(t.p95_latency_ms)),
    stat("stat-ttft", "TTFT p50 / p95", `${fmt.ms(t.p50_ttft_ms)} / ${fmt.ms(t.p95_ttft_ms)}`),
  );
}

export function chartGrid(data, only = CHARTS) {
  const grid = h(
    "div.charts",
    {},
    only.map(([id, title, value, format]) => lineChart({ id: `chart-${id}`, title, data, value, format })),
  );
  paintSwatches(grid);
  return grid;
}

export const CHART_SETS = { all: CHARTS, traffic: CHARTS.slice(0, 4) };

function livePanel(live) {
  return h(
    "section.card",
    { id: "live" },
    h("h2", {}, "Now"),
    h(
      "div.stats",
      {},
      stat("live-streams", "Open streams", fmt.int(live.open_streams)),
      stat("live-inflight", "HTTP requests in flight", fmt.int(live.in_flight)),
    ),
    table(
      "Circuits",
      ["Model", "Deployment", "Circuit"],
      live.circuits.map((c) =>
        h("tr", {}, h("td", {}, c.name), h("td", {}, c.id), h("td", {}, h("span.badge", { dataset: { state: c.circuit || "closed" } }, c.circuit || "closed"))),
      ),
    ),
  );
}

export async function overviewPage(ctx) {
  const base = session.admin ? "/admin/usage/series" : "/self/usage/series";
  const dims = session.admin ? ["total", "model", "key", "interface", "vendor"] : ["total", "model", "interface", "vendor"];
  const by = select("by", dims.map((d) => [d, d === "total" ? "Nothing (total)" : d]), "total");
  const stats = h("div", { id: "overview-totals" });
  const charts = h("div", { id: "overview-charts" });
  const live = h("div", { id: "overview-live" });
  const updated = h("p.hint", { id: "overview-updated", "aria-live": "polite" });
  let generation = 0;
  const refresh = async () => {
    const mine = ++generation;
    const params = range.params();
    const [total, splitOrNull, liveData] = await Promise.all([
      get(base + query({ ...params, by: "total" })),
      by.value === "total" ? null : get(base + query({ ...params, by: by.value })),
      session.admin ? get("/admin/live") : null,
    ]);
    const split = splitOrNull || total;
    if (mine !== generation || ctx.signal.aborted) return;
    clear(stats, totalsCards(total.series[0] && total.series[0].totals));
    // The numbers may be painted before the charts are drawn (the longer part).
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (mine !== generation || ctx.signal.aborted) return;
    clear(charts, chartGrid(split));
    if (liveData) clear(live, livePanel(liveData));
    updated.textContent = `Updated ${new Date().toLocaleTimeString("en-GB", { hour12: false })}${split.truncated ? " (newest records only)" : ""}`;
  };
  const range = rangeControls(ctx.guard(refresh));
  by.addEventListener("change", ctx.guard(refresh));
  ctx.root.append(
    h("h1", {}, session.admin ? "Overview" : "My usage"),
    h("form.controls", { on: { submit: (e) => e.preventDefault() } }, range.elements, field("Split by", by)),
    updated,
    stats,
    live,
    charts,
  );
  ctx.poll(refresh, 5000);
}
