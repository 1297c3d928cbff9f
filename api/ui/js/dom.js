// Building the page: elements from data with textContent only (never parsed HTML).

const SVG = "http://www.w3.org/2000/svg";

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function assign(element, attributes) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === "class") {
      element.setAttribute("class", value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

/** An HTML element: `h("p", {class: "lead"}, "text", child)`. */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  assign(element, attributes);
  append(element, children);
  return element;
}

/** An SVG element. */
export function s(tag, attributes, ...children) {
  const element = document.createElementNS(SVG, tag);
  assign(element, attributes);
  append(element, children);
  return element;
}

/** Replaces the children of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let counter = 0;

/** A fresh id for aria references. */
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * A table inside a horizontal scroller.
 * columns: [{label, numeric?, wrap?}] (cells stay on one line unless `wrap`);
 * rows: [{cells: [text|Node], class?, dataset?}];
 * footer: [text|Node] or null. `name` becomes data-table for the tests and scripts.
 * `captionShown: false` keeps a caption that repeats the panel's heading for screen readers.
 */
export function table({ name, caption, columns, rows, footer, captionShown = true }) {
  const kind = (column) => [column.numeric ? "number" : "", column.wrap ? "wrap" : ""].join(" ").trim() || null;
  const head = h("thead", null, h("tr", null, columns.map((column) =>
    h("th", { scope: "col", class: kind(column) }, column.label))));
  const body = h("tbody", null, rows.map((row) => h("tr", { class: row.class, dataset: row.dataset },
    row.cells.map((cell, index) => (index === 0
      ? h("th", { scope: "row", class: kind(columns[index]) }, cell)
      : h("td", { class: kind(columns[index]) }, cell))))));
  const foot = footer
    ? h("tfoot", null, h("tr", null, footer.map((cell, index) => (index === 0
      ? h("th", { scope: "row" }, cell)
      : h("td", { class: kind(columns[index]) }, cell)))))
    : null;
  const captionElement = h("caption", { class: captionShown ? null : "sr-only" }, caption);
  const element = h("table", { dataset: { table: name } }, captionElement, head, body, foot);
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption }, element);
}

/** A card of figures: [{label, value, field, alert?}]. */
export function cards(name, figures) {
  return h("dl", { class: "cards", dataset: { cards: name } }, figures.map((figure) =>
    h("div", { class: figure.alert ? "card alert" : "card" },
      h("dt", null, figure.label),
      h("dd", { dataset: { field: figure.field, value: figure.raw ?? "" } }, figure.value))));
}
