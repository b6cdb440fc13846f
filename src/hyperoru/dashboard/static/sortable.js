// A table whose columns sort on a press of their heading (a button, so keyboards reach it).

import { h, table } from "./dom.js";

// columns: [{heading, value(row) (what sorts; null last), text(row), key?}]; rows are
// re-ordered in place when a heading's button is pressed (again: the other way round).
export function sortableTable(caption, columns, rows, { id, sortBy, rowKey }) {
  const body = h("tbody");
  const wrap = table(caption, columns.map((column) => column.heading), [], { id, class: "sortable" });
  wrap.querySelector("tbody").replaceWith(body);
  const headings = [...wrap.querySelectorAll("thead th")];
  let current = { index: columns.findIndex((column) => column.heading === sortBy), descending: true };

  function draw() {
    const { index, descending } = current;
    const value = columns[index].value;
    const sorted = [...rows].sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
      if (y === null || y === undefined) return -1;
      const order = typeof x === "string" ? x.localeCompare(y) : x - y;
      return descending ? -order : order;
    });
    body.replaceChildren(
      ...sorted.map((row) =>
        h(
          "tr",
          { dataset: { key: rowKey(row) } },
          columns.map((column, i) =>
            h(i === 0 ? "th" : "td", {
              scope: i === 0 ? "row" : undefined,
              class: i === 0 ? undefined : "num",
              dataset: { label: column.heading, column: column.key || "" },
              text: column.text(row),
            }),
          ),
        ),
      ),
    );
    headings.forEach((th, i) => {
      if (i === index) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  }

  headings.forEach((th, index) => {
    const button = h("button", { type: "button", class: "sort", text: columns[index].heading });
    button.addEventListener("click", () => {
      current = { index, descending: current.index === index ? !current.descending : true };
      draw();
    });
    th.replaceChildren(button);
  });
  draw();
  return wrap;
}
