// AI attribution (GET /api/analytics/ai-attribution): how the decisions went, stated
// confidence against outcome, the template variables behind winning and losing
// decisions, models and market regimes.

import { fmtRatio, fmtShare, statsTable } from "./analytics-tables.js";
import { fmtSigned, h, signClass, table } from "./dom.js";

function figure(label, text, metric) {
  return h("div", { dataset: { metric } }, h("dt", { text: label }), h("dd", { text }));
}

function outcomeRows(rows, keyOf) {
  return rows.map((row) =>
    h(
      "tr",
      {},
      h("th", { scope: "row", text: keyOf(row) }),
      h("td", { class: "num", text: String(row.decisions) }),
      h("td", { class: "num", text: String(row.winning_decisions) }),
      h("td", { class: "num", text: String(row.losing_decisions) }),
      h("td", { class: "num", text: fmtShare(row.accuracy) }),
      h("td", { class: `num ${signClass(row.pnl)}`, text: fmtSigned(row.pnl) }),
    ),
  );
}

const OUTCOME_HEADINGS = ["Decisions", "Winning", "Losing", "Accuracy", "PnL"];

export function attributionParts(attribution) {
  const distribution = Object.entries(attribution.decision_distribution);
  const { confidence } = attribution;
  return [
    h(
      "dl",
      { class: "figures", id: "attribution-figures" },
      figure("Decisions", String(attribution.decisions), "decisions"),
      figure("Executed", String(attribution.executed_decisions), "executed_decisions"),
      figure("Failed", String(attribution.failed_decisions), "failed_decisions"),
      figure("Judged by outcome", String(attribution.judged_decisions), "judged_decisions"),
      figure("Decision accuracy", fmtShare(attribution.decision_accuracy), "decision_accuracy"),
      figure("Confidence vs PnL (correlation)", fmtRatio(confidence.correlation_with_pnl), "correlation_with_pnl"),
    ),
    distribution.length === 0
      ? h("p", { class: "muted", text: "No decisions in this window." })
      : table(
          "Decisions by operation",
          ["Operation", "Decisions"],
          distribution.map(([operation, count]) =>
            h("tr", {}, h("th", { scope: "row", text: operation }), h("td", { class: "num", text: String(count) })),
          ),
          { id: "decision-distribution" },
        ),
    confidence.buckets.length === 0
      ? null
      : table(
          "Stated confidence against outcome",
          ["Confidence", "Decisions", "Accuracy", "PnL"],
          confidence.buckets.map((bucket) =>
            h(
              "tr",
              {},
              h("th", { scope: "row", text: `${bucket.min_confidence}–${bucket.max_confidence}` }),
              h("td", { class: "num", text: String(bucket.decisions) }),
              h("td", { class: "num", text: fmtShare(bucket.accuracy) }),
              h("td", { class: `num ${signClass(bucket.pnl)}`, text: fmtSigned(bucket.pnl) }),
            ),
          ),
        ),
    attribution.context_utilization.length === 0
      ? null
      : table(
          "Template variables in winning and losing decisions",
          ["Variable", ...OUTCOME_HEADINGS],
          outcomeRows(attribution.context_utilization, (row) => row.variable),
        ),
    attribution.regimes.length === 0
      ? null
      : table("By market regime", ["Regime", ...OUTCOME_HEADINGS], outcomeRows(attribution.regimes, (row) => row.regime)),
    attribution.models.length === 0 ? null : statsTable("By model", "Model", attribution.models, (row) => row.model, "models-table"),
  ];
}
