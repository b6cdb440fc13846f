// Telegram and Discord bots: connect or disconnect each (and send a test message to its
// chats), link chats, choose what they tell, and see what was delivered (docs/BOTS.md).

import { get } from "./api.js";
import { botSection } from "./bots-connect.js";
import { chatsSection } from "./bots-chats.js";
import { outboxSection } from "./bots-outbox.js";
import { preferencesSection } from "./bots-prefs.js";
import { h } from "./dom.js";

export async function botsPage(main, { toast }) {
  const [configs, preferences, traders] = await Promise.all([
    get("/api/bot/configs"),
    get("/api/bot/notification-config"),
    get("/api/account/list"),
  ]);
  const outbox = outboxSection();
  const chats = chatsSection(traders, { toast, onLinked: outbox.reload });
  const bot = (config) => {
    const card = botSection(config, {
      onChange: (saved) => {
        card.replaceWith(bot(saved || { platform: config.platform, connected: false }));
        chats.reload(); // disconnecting removes the bot's chats
      },
      onTested: outbox.reload,
    });
    return card;
  };
  main.append(
    h("h1", { text: "Bots" }),
    h("div", { class: "grid two" }, configs.map(bot)),
    chats.element,
    preferencesSection(preferences, toast),
    outbox.element,
  );
  await Promise.all([chats.reload(), outbox.reload()]);
  return chats.stop;
}
