// Small DOM helpers. Text always goes in through textContent, never as HTML, so data
// from the API can never become markup.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" || (key in el && typeof value !== "string")) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let fieldCounter = 0;

// A labelled form control: every input gets a <label for> naming it.
export function field(label, control, hint) {
  control.id = control.id || `f${++fieldCounter}`;
  const hintEl = hint ? h("small", { class: "hint", id: `${control.id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id, text: label }), control, hintEl);
}

export function input(name, props = {}) {
  return h("input", { name, type: "text", ...props });
}

export function select(name, options, value) {
  const el = h("select", { name });
  for (const option of options) {
    const [optionValue, text] = Array.isArray(option) ? option : [option, option];
    el.append(h("option", { value: String(optionValue), text: String(text) }));
  }
  if (value !== undefined && value !== null) el.value = String(value);
  return el;
}

// On a phone every table turns into stacked cards: each cell is labelled with its
// column's heading (style.css shows data-label before the value).
export function table(caption, headings, rows, props = {}) {
  for (const row of rows) {
    [...row.children].forEach((cell, index) => {
      if (headings[index]) cell.dataset.label = headings[index];
    });
  }
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      props,
      h("caption", { text: caption }),
      h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col", text })))),
      h("tbody", {}, rows),
    ),
  );
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", { text: title }), ...children);
}

const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function fmtMoney(value) {
  if (value === null || value === undefined || value === "") return "–";
  return money.format(Number(value));
}

export function fmtNumber(value, digits = 6) {
  if (value === null || value === undefined || value === "") return "–";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function fmtSigned(value) {
  if (value === null || value === undefined) return "–";
  const number = Number(value);
  return (number > 0 ? "+" : "") + money.format(number);
}

export function fmtPct(value) {
  if (value === null || value === undefined) return "–";
  return `${Number(value).toFixed(2)}%`;
}

export function fmtTime(value) {
  if (!value) return "–";
  const date = new Date(value);
  return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function signClass(value) {
  const number = Number(value);
  return number > 0 ? "up" : number < 0 ? "down" : "";
}

// Reads a form's named controls into an object (empty strings left out).
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") values[el.name] = el.checked;
    else if (el.value !== "") values[el.name] = el.value;
  }
  return values;
}
