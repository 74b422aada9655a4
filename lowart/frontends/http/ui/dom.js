// Building the page from data without innerHTML: every value is text, never markup.

/** h("tag.class#id", {attrs, on: {event: fn}}, ...children) */
export function h(spec, attrs = {}, ...children) {
  const [, tag = "div", rest = ""] = spec.match(/^([a-z0-9]+)?(.*)$/i);
  const el = document.createElement(tag);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "on") {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "value" || name === "checked" || name === "selected") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let fieldSeq = 0;

/** A labelled form control: label + input (or select/textarea given as `control`). */
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++fieldSeq}`;
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("small.hint", { id: hintId }, hint));
  }
  return h("div.field", { dataset: { param: control.name || "" } }, parts);
}

export function input(name, attrs = {}) {
  return h("input", { name, type: "text", ...attrs });
}

export function select(name, options, current) {
  return h(
    "select",
    { name },
    options.map((o) => {
      const [value, text] = Array.isArray(o) ? o : [o, o];
      return h("option", { value, selected: value === current }, text);
    }),
  );
}

/** A table inside a scroll box (wide tables scroll on their own, never the page). */
export function table(caption, headers, rows) {
  return h(
    "div.scroll",
    { tabindex: 0, role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows),
    ),
  );
}

export const fmt = {
  int: (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US")),
  ms: (n) => (n === null || n === undefined ? "—" : `${Math.round(n).toLocaleString("en-US")} ms`),
  cost: (c) => {
    if (c === null || c === undefined) return "—";
    const n = Number(c);
    return n === 0 ? "0" : n < 0.01 ? n.toPrecision(3) : n.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
  },
  time: (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { hour12: false }) : "—"),
  opt: (v) => (v === null || v === undefined || v === "" ? "—" : String(v)),
};

/** Read a form's named controls: empty strings become null, numbers stay text. */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") values[el.name] = el.checked;
    else if (el.type !== "file") values[el.name] = el.value.trim() === "" ? null : el.value.trim();
  }
  return values;
}

export function intOrNull(value, name) {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`'${name}' must be a whole number.`);
  return n;
}
