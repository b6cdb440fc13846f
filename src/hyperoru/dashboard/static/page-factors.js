// Factors (/api/factors, docs/FACTORS.md): your own factors (create, edit, delete), a
// factor's recent values on one symbol, effectiveness, and the built-in catalogue. While
// the server runs without the factor engine the page says so and shows nothing else.

import { del, get, post, put } from "./api.js";
import { lineChart } from "./charts.js";
import { clear, field, fmtNumber, h, input, section, select, table } from "./dom.js";
import { effectivenessSection } from "./factors-effectiveness.js";
import { onPress, submitForm } from "./forms.js";

const OFF = "The factor engine is off on this server. The operator turns it on with HYPERORU_FACTOR_ENGINE=enabled (docs/FACTORS.md); your factors, evaluation and effectiveness appear here then.";

function evaluateSection(symbols) {
  const expression = h("textarea", { name: "expression", rows: 2, class: "code", required: true, value: "ema(close, 20) / ema(close, 50) - 1" });
  const symbol = select("symbol", symbols.map((asset) => asset.symbol), "BTC");
  const form = h(
    "form",
    { id: "evaluate-form" },
    field("Expression to evaluate", expression, "A built-in or custom factor name, or any expression."),
    h(
      "div",
      { class: "inline-form" },
      field("Symbol", symbol),
      field("Bars", input("bars", { type: "number", min: "2", max: "1000", value: "100", required: true })),
      h("button", { type: "submit", text: "Evaluate" }),
    ),
  );
  const about = h("p", { id: "evaluate-result", role: "status" });
  const chart = h("div", { id: "evaluate-chart" });
  submitForm(form, async (values) => {
    const result = await post("/api/factors/evaluate", { expression: values.expression, symbol: values.symbol, bars: Number(values.bars) });
    const [series] = result.series;
    about.textContent = `${result.canonical} on ${series.symbol}, ${result.interval} bars (needs ${result.lookback_bars} bars of history): latest ${fmtNumber(series.latest)}.`;
    lineChart(chart, [{ name: series.symbol, x: series.times, y: series.values }], {
      title: `${series.symbol}: ${result.canonical}`,
      empty: "Fewer than two values: nothing to draw.",
      yaxis: { automargin: true, tickformat: ",.4~f" },
    });
  });
  function use(text) {
    expression.value = text;
    form.scrollIntoView({ block: "start" });
    form.requestSubmit();
  }
  return { el: section("Evaluate", form, about, chart), use };
}

function customSection(factors, { evaluate, reload }) {
  const name = input("name", { required: true, autocapitalize: "none", spellcheck: "false" });
  const expression = h("textarea", { name: "expression", rows: 3, class: "code", required: true, spellcheck: "false" });
  const description = input("description");
  const save = h("button", { type: "submit", text: "Create factor" });
  const cancel = h("button", { type: "button", text: "Cancel edit", hidden: true });
  const form = h(
    "form",
    { id: "factor-form" },
    field("Name", name, "Lowercase letters, digits and _, starting with a letter."),
    field("Expression", expression, "e.g. roc(close, 10) * (volume / sma(volume, 20)); + - * /, functions, close/open/high/low/volume/returns, built-in names."),
    field("Description", description),
    h("div", { class: "actions" }, save, cancel),
  );
  let editing = null;
  function edit(factor) {
    editing = factor;
    form.reset(); // and the errors shown go
    name.value = factor ? factor.name : "";
    expression.value = factor ? factor.expression : "";
    description.value = factor ? factor.description || "" : "";
    save.textContent = factor ? `Save ${factor.name}` : "Create factor";
    cancel.hidden = !factor;
    if (factor) name.focus();
  }
  cancel.addEventListener("click", () => edit(null));
  submitForm(
    form,
    async (values) => {
      const body = { name: values.name, expression: values.expression, description: values.description || null };
      if (editing) await put(`/api/factors/custom/${editing.id}`, body);
      else await post("/api/factors/custom", body);
      reload();
      return `Factor ${values.name} saved`;
    },
    { fieldFor: { FACTOR_NAME_TAKEN: "name" } },
  );

  const button = (text, label, action) => {
    const el = h("button", { type: "button", class: "small", text, "aria-label": label });
    if (action) el.addEventListener("click", action);
    return el;
  };
  const list =
    factors.length === 0
      ? h("p", { class: "muted", text: "No factors of your own yet." })
      : table(
          "Your factors",
          ["Name", "Expression", "Description", ""],
          factors.map((factor) =>
            h(
              "tr",
              { dataset: { factor: factor.name } },
              h("th", { scope: "row", text: factor.name }),
              h("td", { class: "wrap" }, h("code", { text: factor.expression })),
              h("td", { class: "wrap", text: factor.description || "" }),
              h(
                "td",
                { class: "actions" },
                button("Evaluate", `Evaluate ${factor.name}`, () => evaluate(factor.expression)),
                button("Edit", `Edit ${factor.name}`, () => edit(factor)),
                onPress(button("Delete", `Delete ${factor.name}`), async () => {
                  await del(`/api/factors/custom/${factor.id}`);
                  reload();
                }),
              ),
            ),
          ),
          { id: "custom-factors" },
        );
  return section("Your factors", list, form);
}

function catalogueSection(builtins, evaluate) {
  const categories = [...new Set(builtins.map((factor) => factor.category))];
  return section(
    `Built-in factors (${builtins.length})`,
    categories.map((category) => {
      const mine = builtins.filter((factor) => factor.category === category);
      return h(
        "details",
        { class: "category", dataset: { category } },
        h("summary", { text: `${category} (${mine.length})` }),
        table(
          `Built-in ${category} factors`,
          ["Name", "Expression", "Description", ""],
          mine.map((factor) => {
            const run = h("button", { type: "button", class: "small", text: "Evaluate", "aria-label": `Evaluate ${factor.name}` });
            run.addEventListener("click", () => evaluate(factor.name));
            return h(
              "tr",
              { dataset: { factor: factor.name } },
              h("th", { scope: "row", text: factor.name }),
              h("td", { class: "wrap" }, h("code", { text: factor.expression })),
              h("td", { class: "wrap", text: factor.description || "" }),
              h("td", {}, run),
            );
          }),
        ),
      );
    }),
  );
}

export async function factorsPage(main, { navigate, toast }) {
  main.append(h("h1", { text: "Factors" }));
  // Asked first, so that a server without the engine is a calm note, not a refused call.
  const status = await get("/api/factors/status");
  if (!status.enabled) {
    main.append(section("Factor engine off", h("p", { class: "muted", id: "factors-off", text: OFF })));
    return;
  }
  const catalogue = await get("/api/factors/");
  const symbols = await get("/api/crypto/symbols");
  const evaluate = evaluateSection(symbols);
  const effectiveness = effectivenessSection(toast);
  await effectiveness.load();
  const reload = () => navigate("#/factors");
  clear(
    main,
    h("h1", { text: "Factors" }),
    customSection(
      catalogue.filter((factor) => factor.source === "custom"),
      { evaluate: evaluate.use, reload },
    ),
    evaluate.el,
    effectiveness.el,
    catalogueSection(
      catalogue.filter((factor) => factor.source === "builtin"),
      evaluate.use,
    ),
  );
  return effectiveness.stop;
}
