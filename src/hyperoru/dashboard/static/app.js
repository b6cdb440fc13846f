// The single page: a hash router over the pages, the sign-in gate and the live socket.

import { forgetSession, onSignedOut, post, sessionToken } from "./api.js";
import { purgeCharts } from "./charts.js";
import { clear, h } from "./dom.js";
import { onLiveState, startLive, stopLive } from "./live.js";
import { analyticsPage } from "./page-analytics.js";
import { assistantPage } from "./page-assistant.js";
import { backtestPage, backtestsPage } from "./page-backtests.js";
import { botsPage } from "./page-bots.js";
import { factorsPage } from "./page-factors.js";
import { livePage } from "./page-live.js";
import { programsPage } from "./page-programs.js";
import { promptBacktestPage, promptBacktestsPage } from "./page-prompt-backtests.js";
import { promptsPage } from "./page-prompts.js";
import { securityPage } from "./page-security.js";
import { sessionsPage } from "./page-sessions.js";
import { settingsPage } from "./page-settings.js";
import { signalsPage } from "./page-signals.js";
import { signInPage } from "./page-signin.js";
import { traderPage } from "./page-trader.js";
import { tradersPage } from "./page-traders.js";
import { toast } from "./toast.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const liveState = document.getElementById("live-state");

const ROUTES = [
  [/^traders$/, tradersPage, "Traders"],
  [/^trader\/(\d+)$/, traderPage, "Trader"],
  [/^trader\/(\d+)\/live$/, livePage, "Live trading"],
  [/^backtests$/, backtestsPage, "Backtests"],
  [/^backtest\/(\d+)$/, backtestPage, "Backtest"],
  [/^prompt-backtests$/, promptBacktestsPage, "Prompt backtests"],
  [/^prompt-backtest\/(\d+)$/, promptBacktestPage, "Prompt backtest"],
  [/^prompts(?:\/(\d+))?$/, promptsPage, "Prompts"],
  [/^programs(?:\/(\d+))?$/, programsPage, "Programs"],
  [/^signals$/, signalsPage, "Signals"],
  [/^analytics(?:\?(.*))?$/, analyticsPage, "Analytics"],
  [/^factors$/, factorsPage, "Factors"],
  [/^assistant(?:\/(\d+))?$/, assistantPage, "Assistant"],
  [/^bots$/, botsPage, "Bots"],
  [/^sessions$/, sessionsPage, "Sessions"],
  [/^security$/, securityPage, "Security"],
  [/^settings$/, settingsPage, "Settings"],
];

let cleanup = null;
let renderCount = 0;

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  const current = ++renderCount;
  if (cleanup) cleanup();
  cleanup = null;
  purgeCharts(main);
  const signedIn = Boolean(sessionToken());
  nav.hidden = !signedIn;
  liveState.hidden = !signedIn;
  if (!signedIn) {
    stopLive();
    document.title = "Sign in · Hyperoru";
    clear(main);
    signInPage(main, { onSignedIn: () => navigate("#/traders") });
    main.dataset.page = "signin";
    return;
  }
  startLive();
  const path = location.hash.replace(/^#\/?/, "") || "traders";
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  for (const link of nav.querySelectorAll("a")) {
    const active = route && link.getAttribute("href") === `#/${path.split(/[/?]/)[0]}`;
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clear(main);
  if (!route) {
    main.dataset.page = "missing";
    main.append(h("h1", { text: "Page not found" }), h("a", { href: "#/traders", text: "Back to the traders" }));
    return;
  }
  const [pattern, page, title] = route;
  document.title = `${title} · Hyperoru`;
  main.dataset.page = title.toLowerCase();
  main.dataset.ready = "false";
  try {
    const done = await page(main, { params: path.match(pattern).slice(1), toast, navigate });
    if (current !== renderCount) {
      if (typeof done === "function") done();
      return;
    }
    cleanup = typeof done === "function" ? done : null;
    main.dataset.ready = "true";
  } catch (error) {
    if (current !== renderCount || !sessionToken()) return;
    main.append(h("p", { class: "error", role: "alert", text: error.message }));
    main.dataset.ready = "error";
  }
}

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await post("/api/users/logout");
  } finally {
    forgetSession();
  }
});

onSignedOut(() => {
  stopLive();
  location.hash = "";
  render();
});

onLiveState((state) => {
  liveState.textContent = state === "live" ? "● live" : state === "connecting" ? "○ connecting" : "○ offline";
  liveState.dataset.state = state;
});

window.addEventListener("hashchange", () => {
  render();
  main.focus({ preventScroll: true });
});
render();
