// Small SVG line charts: one line per group over fixed time buckets (no library).

import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2456a6", "#c0392b", "#1e8449", "#b9770e", "#7d3c98", "#117a8b", "#6e2c00", "#515a5a"];
const W = 600;
const H = 180;
const PAD = { left: 56, right: 8, top: 10, bottom: 22 };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function shortTime(ms, span) {
  const d = new Date(ms);
  const hm = d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false });
  return span > 86400e3 ? `${d.toLocaleDateString("en-GB", { day: "2-digit", month: "short" })} ${hm}` : hm;
}

/**
 * lineChart({title, data, value, format}) where `data` is a series answer
 * ({since, until, step, series: [{group, points: [{t, ...}]}]}) and `value(point)`
 * picks the number drawn (null: no value in that bucket).
 */
export function lineChart({ title, data, value, format = String, id }) {
  const since = Date.parse(data.since);
  const until = Date.parse(data.until);
  const span = Math.max(until - since, 1);
  const lines = data.series.map((s, i) => ({
    group: s.group,
    color: COLORS[i % COLORS.length],
    points: s.points
      .map((p) => ({ x: Date.parse(p.t) + (data.step * 1000) / 2, y: value(p) }))
      .filter((p) => p.y !== null && p.y !== undefined && !Number.isNaN(Number(p.y)))
      .map((p) => ({ x: p.x, y: Number(p.y) })),
  }));
  const maxY = Math.max(0, ...lines.flatMap((l) => l.points.map((p) => p.y))) || 1;
  const x = (t) => PAD.left + ((t - since) / span) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / maxY) * (H - PAD.top - PAD.bottom);
  const total = lines.reduce((n, l) => n + l.points.length, 0);
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${total ? `${lines.length} series, peak ${format(maxY)}` : "no data in this period"}`, class: "chart" },
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), class: "axis" }),
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(maxY), y2: y(maxY), class: "grid" }),
    svg("text", { x: PAD.left - 4, y: y(maxY) + 4, "text-anchor": "end", class: "tick" }, format(maxY)),
    svg("text", { x: PAD.left - 4, y: y(0), "text-anchor": "end", class: "tick" }, format(0)),
    svg("text", { x: PAD.left, y: H - 6, class: "tick" }, shortTime(since, span)),
    svg("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end", class: "tick" }, shortTime(until, span)),
  );
  for (const line of lines) {
    if (!line.points.length) continue;
    if (line.points.length === 1) {
      const [p] = line.points;
      chart.append(svg("circle", { cx: x(p.x), cy: y(p.y), r: 3, fill: line.color }));
      continue;
    }
    const d = line.points.map((p, i) => `${i ? "L" : "M"}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join("");
    chart.append(svg("path", { d, stroke: line.color, fill: "none", "stroke-width": 2 }));
    for (const p of line.points) chart.append(svg("circle", { cx: x(p.x), cy: y(p.y), r: 2, fill: line.color }));
  }
  return h(
    "figure.chart-box",
    { id, dataset: { points: String(total), peak: String(maxY) } },
    h("figcaption", {}, title),
    chart,
    h(
      "ul.legend",
      {},
      lines.map((l) => h("li", {}, h("span.swatch", { dataset: { color: l.color } }), l.group)),
    ),
  );
}

/** Swatch colours come from data attributes (inline styles are refused by the CSP). */
export function paintSwatches(root) {
  for (const el of root.querySelectorAll(".swatch[data-color]")) el.style.backgroundColor = el.dataset.color;
}
