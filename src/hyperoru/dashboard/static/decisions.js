// A decision record (GET /api/account/{id}/decisions, model_chat pushes) as a card.

import { fmtTime, h } from "./dom.js";

function block(title, text) {
  if (!text) return null;
  return h("details", {}, h("summary", { text: title }), h("pre", { text }));
}

export function decisionCard(decision) {
  const verdicts = (decision.outcomes || []).map((outcome, index) => {
    const parsed = (decision.decisions || [])[index] || {};
    const what = `${parsed.operation || "?"} ${parsed.symbol || ""}`.trim();
    const verdict = outcome.approved ? "approved" : "rejected";
    const detail = [outcome.reason, outcome.execution_status, outcome.reject_code]
      .filter(Boolean)
      .join(", ");
    const orders = (outcome.order_ids || []).length ? ` – orders ${outcome.order_ids.join(", ")}` : "";
    return h("li", { class: outcome.approved ? "up" : "down" }, `${what}: ${verdict}${detail ? ` (${detail})` : ""}${orders}`);
  });
  const headline = decision.operation
    ? `${decision.operation}${decision.symbol ? ` ${decision.symbol}` : ""}`
    : decision.status;
  return h(
    "article",
    { class: `decision ${decision.status}`, dataset: { decisionId: decision.id } },
    h(
      "header",
      {},
      h("strong", { text: headline }),
      " ",
      h("span", { class: "muted", text: `${decision.trigger_type} · ${fmtTime(decision.created_at)}` }),
      decision.latency_ms !== null && decision.latency_ms !== undefined
        ? h("span", { class: "muted", text: ` · ${decision.latency_ms} ms` })
        : null,
    ),
    decision.error ? h("p", { class: "error", text: decision.error }) : null,
    decision.reasoning ? h("p", { class: "reasoning", text: decision.reasoning }) : null,
    verdicts.length ? h("ul", { class: "verdicts", "aria-label": "Risk verdicts" }, verdicts) : null,
    block("Decisions (parsed)", JSON.stringify(decision.decisions, null, 2)),
    block("Prompt", decision.rendered_prompt),
    block("Raw answer", decision.raw_output),
  );
}
