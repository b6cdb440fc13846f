// The pages' one WebSocket to /ws. The token goes in the first message ("connect"),
// never in the URL; pushes are handed to whatever the current page registered.

import { forgetSession, sessionToken } from "./api.js";

// "orders" and "reconciliation" carry only live traders' pushes (the live page's).
const CHANNELS = ["trades", "positions", "model_chat", "asset_curve", "orders", "reconciliation"];
const listeners = new Set();
let socket = null;
let retryTimer = null;
let stateListener = () => {};

export function onLiveState(listener) {
  stateListener = listener;
}

export function listen(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function startLive() {
  if (socket || !sessionToken()) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  socket = ws;
  stateListener("connecting");
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "connect", data: { session_token: sessionToken() } }));
  });
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "connected") {
      ws.send(JSON.stringify({ type: "subscribe", data: { channels: CHANNELS } }));
    } else if (message.type === "subscribed") {
      stateListener("live");
    } else if (message.channel) {
      for (const listener of listeners) listener(message);
    }
  });
  ws.addEventListener("close", (event) => {
    if (socket === ws) socket = null;
    stateListener("offline");
    if (event.code === 4401) {
      forgetSession();
      return;
    }
    if (sessionToken() && retryTimer === null) {
      retryTimer = setTimeout(() => {
        retryTimer = null;
        startLive();
      }, 2000);
    }
  });
}

export function stopLive() {
  if (retryTimer !== null) clearTimeout(retryTimer);
  retryTimer = null;
  const ws = socket;
  socket = null;
  if (ws) ws.close(1000);
  stateListener("offline");
}
