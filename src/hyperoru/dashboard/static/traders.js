// What several pages show about traders, read from the public /api routes.

import { get } from "./api.js";
import { h } from "./dom.js";

// One trader's figures for the overview: GET /api/account/{id}/overview, positions,
// the newest decision and the equity curve.
export async function traderSummary(account) {
  const id = account.id;
  const [overview, positions, decisions, curve] = await Promise.all([
    get(`/api/account/${id}/overview`),
    get(`/api/account/${id}/positions`),
    get(`/api/account/${id}/decisions?limit=1`),
    get(`/api/account/${id}/asset-curve?timeframe=5m`),
  ]);
  return { account: overview.account, overview, positions, lastDecision: decisions[0] || null, curve };
}

export function statusBadge(account) {
  const status = account.status || "active";
  const label = { active: "Active", paused: "Paused", error: "Error" }[status] || status;
  return h(
    "span",
    { class: `badge ${status}`, title: account.status_reason || "" },
    label,
    account.status === "error" && account.status_reason ? `: ${account.status_reason}` : "",
  );
}

export function decisionSummary(decision) {
  if (!decision) return "No decision yet";
  const first = (decision.decisions || [])[0];
  const what = first ? `${first.operation || "hold"}${first.symbol ? ` ${first.symbol}` : ""}` : decision.status;
  return `${what}${decision.reasoning ? ` – ${decision.reasoning}` : ""}`;
}
