// The kill switch (one trader's or all of the user's): choose whether to flatten, then
// confirm in a second step, since it stops trading at once. The answer (per trader: what
// was cancelled and closed, and what failed) is shown as the API gives it.

import { post } from "./api.js";
import { clear, h, section, table } from "./dom.js";
import { onPress } from "./forms.js";

function reportTable(reports) {
  return table(
    "What the kill switch did",
    ["Trader", "Mode", "Stopped", "Orders cancelled", "Positions closed", "Errors"],
    reports.map((report) =>
      h(
        "tr",
        { dataset: { accountId: report.account_id } },
        h("th", { scope: "row", text: `#${report.account_id}` }),
        h("td", { text: report.execution_mode }),
        h("td", { text: report.stopped ? "yes" : "no" }),
        h("td", { class: "num", text: String(report.orders_cancelled) }),
        h("td", { class: "num", text: String(report.positions_closed) }),
        h("td", { class: "wrap", text: report.errors.join("; ") || "none" }),
      ),
    ),
    { class: "kill-report" },
  );
}

// ``what``: the words for what stops ("this trader", "all your traders"); ``url``: the
// kill route; ``onDone(reports)``: after a kill (the page refreshes what it shows).
export function killSwitchSection({ prefix, what, url, onDone }) {
  const flatten = h("input", { type: "checkbox", name: "flatten", id: `${prefix}-flatten` });
  const arm = h("button", { type: "button", class: "danger", id: `${prefix}-arm`, text: "Kill switch…" });
  const confirmText = h("p", { role: "alert" });
  const confirm = h("button", { type: "button", class: "danger", id: `${prefix}-confirm`, text: "Confirm: stop now" });
  const back = h("button", { type: "button", id: `${prefix}-cancel`, text: "Keep trading" });
  const step = h("div", { id: `${prefix}-confirm-step`, hidden: true }, confirmText, h("div", { class: "actions" }, confirm, back));
  const result = h("div", { id: `${prefix}-result` });

  arm.addEventListener("click", () => {
    confirmText.textContent = `This stops ${what}, cancels every open order${
      flatten.checked ? " and closes every position at market" : " (positions stay open)"
    }. Are you sure?`;
    step.hidden = false;
    arm.disabled = true;
    flatten.disabled = true;
    confirm.focus();
  });
  function disarm() {
    step.hidden = true;
    arm.disabled = false;
    flatten.disabled = false;
  }
  back.addEventListener("click", () => {
    disarm();
    arm.focus();
  });
  onPress(confirm, async () => {
    try {
      const answer = await post(url, { flatten: flatten.checked });
      const reports = answer.traders || [answer];
      clear(result, reports.length ? reportTable(reports) : h("p", { text: "You have no traders to stop." }));
      if (onDone) await onDone(reports);
      return `Kill switch: ${reports.length} trader(s) stopped`;
    } finally {
      disarm();
    }
  });

  return section(
    "Kill switch",
    h("p", { text: `Stops ${what} and cancels every open order, on paper and at the exchange.` }),
    h("div", { class: "field check" }, flatten, h("label", { for: flatten.id, text: "Also close every position (flatten)" })),
    h("div", { class: "actions" }, arm),
    step,
    result,
  );
}
