import { h } from "./dom.js";

// Charts drawn by plotly.js, served by our app from the installed plotly package.
// Only SVG trace types are used (no WebGL), so nothing needs eval under the CSP.

const CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };

function layout(title, extra = {}) {
  return {
    title: title ? { text: title, font: { size: 14 } } : undefined,
    autosize: true,
    height: 300,
    margin: { l: 56, r: 16, t: title ? 36 : 12, b: 36 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    legend: { orientation: "h", y: -0.2 },
    xaxis: { type: "date", automargin: true },
    yaxis: { automargin: true, tickformat: ",.2f" },
    ...extra,
  };
}

const NO_EQUITY = "No equity history yet: it is recorded as the trader trades and every minute.";

// series: [{name, points: [{timestamp, equity}], now?}]: ``now`` (the current equity)
// extends a curve to the present, so a trader younger than its first snapshot shows too.
export function equityChart(el, series, title = "Equity") {
  lineChart(el, withNow(series).map(equityLine), { title, empty: NO_EQUITY });
}

// The same curves as each one's fall from its running peak, in percent (0 at a new high).
export function drawdownChart(el, series, title = "Drawdown") {
  const lines = withNow(series).map((one) => {
    let peak = -Infinity;
    const { name, x, y } = equityLine(one);
    return {
      name,
      x,
      y: y.map((value) => {
        peak = Math.max(peak, value);
        return peak > 0 ? (value / peak - 1) * 100 : 0;
      }),
    };
  });
  lineChart(el, lines, { title, empty: NO_EQUITY, yaxis: { automargin: true, tickformat: ",.2f", ticksuffix: "%" } });
}

function withNow(series) {
  return series.map((one) =>
    one.now === undefined || one.now === null
      ? one
      : { ...one, points: [...one.points, { timestamp: new Date().toISOString(), equity: one.now }] },
  );
}

function equityLine(one) {
  return { name: one.name, x: one.points.map((point) => point.timestamp), y: one.points.map((point) => Number(point.equity)) };
}

// Lines over time: [{name, x: [times], y: [numbers or null]}]. ``empty`` is shown instead
// while no line has two points; ``yaxis`` replaces the default axis (money, 2 decimals).
export function lineChart(el, lines, { title, empty = "Nothing to draw yet.", yaxis } = {}) {
  if (lines.every((one) => one.x.length < 2)) {
    window.Plotly.purge(el);
    el.classList.remove("chart");
    el.replaceChildren(h("p", { class: "muted", text: empty }));
    return;
  }
  // Only the note goes: the drawn chart's own elements stay for plotly to update.
  el.querySelector(":scope > p.muted")?.remove();
  const traces = lines.map((one) => ({ type: "scatter", mode: "lines", name: one.name, x: one.x, y: one.y }));
  drawn(el, `${title} chart of ${lines.map((one) => one.name).join(", ")}`);
  window.Plotly.react(el, traces, layout(title, yaxis ? { yaxis } : {}), CONFIG);
}

// Bars over categories (numbers or names on x), e.g. a factor's IC at each horizon.
export function barChart(el, { title, x, y, xTitle }) {
  drawn(el, `${title} bar chart`);
  const extra = { xaxis: { type: "category", automargin: true, title: xTitle ? { text: xTitle } : undefined }, yaxis: { automargin: true, tickformat: ",.3f" } };
  window.Plotly.react(el, [{ type: "bar", x, y }], layout(title, extra), CONFIG);
}

function drawn(el, label) {
  el.classList.add("chart");
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", label);
}

// Candles of one symbol with fills and take-profit/stop-loss levels drawn over them.
export function candleChart(el, symbol, candles, fills, levels) {
  const traces = [
    {
      type: "candlestick",
      name: symbol,
      x: candles.map((c) => c.timestamp),
      open: candles.map((c) => Number(c.open)),
      high: candles.map((c) => Number(c.high)),
      low: candles.map((c) => Number(c.low)),
      close: candles.map((c) => Number(c.close)),
    },
  ];
  for (const side of ["buy", "sell"]) {
    const mine = fills.filter((fill) => fill.side === side);
    traces.push({
      type: "scatter",
      mode: "markers",
      name: `${side} fills`,
      x: mine.map((fill) => fill.time),
      y: mine.map((fill) => Number(fill.price)),
      marker: { symbol: side === "buy" ? "triangle-up" : "triangle-down", size: 10 },
    });
  }
  const shapes = levels.map((level) => ({
    type: "line",
    xref: "paper",
    x0: 0,
    x1: 1,
    y0: Number(level.price),
    y1: Number(level.price),
    line: { dash: "dot", width: 1, color: level.kind === "tp" ? "#15803d" : "#b91c1c" },
  }));
  drawn(el, `${symbol} candles with fills`);
  window.Plotly.react(
    el,
    traces,
    layout(`${symbol} candles`, { shapes, xaxis: { type: "date", rangeslider: { visible: false } } }),
    CONFIG,
  );
}

export function purgeCharts(root) {
  for (const el of root.querySelectorAll(".js-plotly-plot")) window.Plotly.purge(el);
}
