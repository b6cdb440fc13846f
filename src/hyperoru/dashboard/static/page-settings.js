// The user's own settings: profile, password, and the default exchange for new traders.

import { get, post, put } from "./api.js";
import { field, formValues, h, input, section, select } from "./dom.js";

export async function settingsPage(main, { toast }) {
  main.append(h("h1", { text: "Settings" }));
  const [profile, exchange] = await Promise.all([get("/api/users/profile"), get("/api/users/exchange-config")]);

  const profileForm = h(
    "form",
    { id: "profile-form" },
    field("Username", input("username", { value: profile.username, required: true, autocomplete: "username" })),
    field("Email", input("email", { type: "email", value: profile.email || "", autocomplete: "email" })),
    h("button", { type: "submit", text: "Save profile" }),
  );
  profileForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await put("/api/users/profile", formValues(profileForm));
      toast("Profile saved");
    } catch (error) {
      toast(error.message);
    }
  });

  const passwordForm = h(
    "form",
    { id: "password-form" },
    field("Current password", input("current_password", { type: "password", required: true, autocomplete: "current-password" })),
    field("New password", input("new_password", { type: "password", required: true, minLength: 8, autocomplete: "new-password" }), "Changing it signs out your other sessions."),
    h("button", { type: "submit", text: "Change password" }),
  );
  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await put("/api/users/password", formValues(passwordForm));
      passwordForm.reset();
      toast("Password changed; other sessions were signed out");
    } catch (error) {
      toast(error.message);
    }
  });

  const exchangeForm = h(
    "form",
    { id: "exchange-form" },
    field("Default exchange for new traders", select("selected_exchange", ["hyperliquid", "binance"], exchange.selected_exchange)),
    h("button", { type: "submit", text: "Save exchange" }),
  );
  exchangeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/api/users/exchange-config", formValues(exchangeForm));
      toast("Exchange saved");
    } catch (error) {
      toast(error.message);
    }
  });

  main.append(
    section("Profile", profileForm),
    section("Password", passwordForm),
    section("Exchange", exchangeForm),
    h("p", {}, "Sessions of this account are listed on the ", h("a", { href: "#/sessions", text: "sessions page" }), "."),
  );
}
