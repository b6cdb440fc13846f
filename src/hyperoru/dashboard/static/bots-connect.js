// Connecting a Telegram or Discord bot (POST /api/bots/telegram, /api/bots/discord) and
// disconnecting it (DELETE /api/bot/config/{platform}). Tokens and webhook URLs are
// write-only: the inputs start empty and the API only ever says that one is stored.

import { del, post } from "./api.js";
import { field, h, input, section } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

const secret = (name, maxLength, required = false) => input(name, { type: "password", autocomplete: "off", maxLength, required });

const FIELDS = {
  telegram: () => [
    field("Bot token", secret("bot_token", 300, true), "From @BotFather. Never shown again."),
    field("Chat id (optional)", input("chat_id", { maxLength: 64 }), "A chat that only receives notifications; to run commands, link a chat below."),
  ],
  discord: () => [
    field("Bot token (optional)", secret("bot_token", 300), "Never shown again."),
    field("Channel webhook URL (optional)", secret("webhook_url", 500), "Send-only; it holds a token, so it is never shown again either."),
    field("Server (guild) id", input("guild_id", { maxLength: 64 })),
    field("Channel id", input("chat_id", { maxLength: 64 })),
    field("Public key", input("public_key", { maxLength: 64, pattern: "[0-9a-fA-F]{64}" }), "For slash commands through the interactions endpoint."),
  ],
};

const TITLES = { telegram: "Telegram", discord: "Discord" };

function state(config) {
  if (!config.connected) return [h("p", { class: "muted", text: "Not connected." })];
  const facts = [
    ["Bot", config.bot_username || "–"],
    ["Token", config.bot_token ? "stored (hidden)" : "none"],
    ["Webhook URL", config.webhook_url ? "stored (hidden)" : "none"],
    ["Mode", config.mode || "–"],
    ["Chat", config.chat_id || "–"],
    ["Interactions URL", config.interactions_url || "–"],
  ].filter(([, value]) => !(config.platform === "telegram" && value === "none"));
  return [h("dl", { class: "tool-args" }, facts.flatMap(([key, value]) => [h("dt", { text: key }), h("dd", { text: value })]))];
}

// onChange: called with the platform's new config (or null once disconnected);
// onTested: called once a test message is queued (the delivery log has a new line).
export function botSection(config, { onChange, onTested }) {
  const platform = config.platform;
  const title = TITLES[platform];
  const submit = h("button", { type: "submit", text: config.connected ? `Replace ${title} bot` : `Connect ${title}` });
  // A refusal (e.g. the platform refused the token) is shown in the form.
  const form = submitForm(h("form", { id: `${platform}-form` }, FIELDS[platform](), submit), async (values) => {
    const saved = await post(`/api/bots/${platform}`, values);
    form.reset();
    onChange(saved);
    return `${title} connected`;
  });
  const disconnect = onPress(h("button", { type: "button", class: "danger", text: `Disconnect ${title}` }), async () => {
    await del(`/api/bot/config/${platform}`);
    onChange(null);
    return `${title} disconnected`;
  });
  // POST /api/bots/{platform}/test: one message to each active chat, through the outbox.
  const test = onPress(h("button", { type: "button", text: "Send a test message" }), async () => {
    const { queued } = await post(`/api/bots/${platform}/test`, {});
    onTested();
    return `Test message queued for ${queued} chat${queued === 1 ? "" : "s"}`;
  });
  const card = section(title, ...state(config), form, config.connected ? h("div", { class: "actions" }, test, disconnect) : null);
  card.id = `${platform}-bot`;
  card.dataset.connected = String(config.connected);
  return card;
}
