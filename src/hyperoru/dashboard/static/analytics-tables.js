// Tables of /api/analytics answers: the trade statistics every breakdown row shares.

import { fmtMoney, fmtNumber, fmtPct, fmtSigned, h, signClass, table } from "./dom.js";

// A fraction 0–1 (win rates, accuracy) as a percentage.
export function fmtShare(value) {
  return value === null || value === undefined ? "–" : fmtPct(Number(value) * 100);
}

export const fmtRatio = (value) => fmtNumber(value, 3);

// The columns of docs/ANALYTICS.md's "trade statistics", as [heading, text of a row].
const STATS = [
  ["Trades", (row) => String(row.trades)],
  ["Win rate", (row) => fmtShare(row.win_rate)],
  ["PnL", (row) => fmtSigned(row.pnl)],
  ["Profit factor", (row) => fmtRatio(row.profit_factor)],
  ["Avg return", (row) => fmtPct(row.avg_return_pct)],
  ["Fees", (row) => fmtMoney(row.fees_paid)],
];

// One row per group of trades (by symbol, strategy, operation, trigger, model...).
export function statsTable(caption, keyHeading, rows, keyOf, id) {
  if (rows.length === 0) return h("p", { class: "muted", text: "No closed trades in this window." });
  return table(
    caption,
    [keyHeading, ...STATS.map(([heading]) => heading)],
    rows.map((row) =>
      h(
        "tr",
        { dataset: { key: keyOf(row) } },
        h("th", { scope: "row", text: keyOf(row) }),
        STATS.map(([heading, text]) => h("td", { class: `num ${heading === "PnL" ? signClass(row.pnl) : ""}`, text: text(row) })),
      ),
    ),
    { id },
  );
}
