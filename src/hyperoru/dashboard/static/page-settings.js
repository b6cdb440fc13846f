// The user's own settings: profile, password, and the default exchange for new traders.

import { get, post, put } from "./api.js";
import { field, h, input, section, select } from "./dom.js";
import { submitForm } from "./forms.js";

export async function settingsPage(main) {
  main.append(h("h1", { text: "Settings" }));
  const [profile, exchange] = await Promise.all([get("/api/users/profile"), get("/api/users/exchange-config")]);

  const profileForm = h(
    "form",
    { id: "profile-form" },
    field("Username", input("username", { value: profile.username, required: true, autocomplete: "username" })),
    field("Email", input("email", { type: "email", value: profile.email || "", autocomplete: "email" })),
    h("button", { type: "submit", text: "Save profile" }),
  );
  submitForm(profileForm, async (values) => {
    await put("/api/users/profile", values);
    return "Profile saved";
  });

  const passwordForm = h(
    "form",
    { id: "password-form" },
    field("Current password", input("current_password", { type: "password", required: true, autocomplete: "current-password" })),
    field("New password", input("new_password", { type: "password", required: true, minLength: 8, autocomplete: "new-password" }), "Changing it signs out your other sessions."),
    h("button", { type: "submit", text: "Change password" }),
  );
  submitForm(
    passwordForm,
    async (values) => {
      await put("/api/users/password", values);
      passwordForm.reset();
      return "Password changed; other sessions were signed out";
    },
    { fieldFor: { INVALID_CURRENT_PASSWORD: "current_password" } },
  );

  const exchangeForm = h(
    "form",
    { id: "exchange-form" },
    field("Default exchange for new traders", select("selected_exchange", ["hyperliquid", "binance"], exchange.selected_exchange)),
    h("button", { type: "submit", text: "Save exchange" }),
  );
  submitForm(exchangeForm, async (values) => {
    await post("/api/users/exchange-config", values);
    return "Exchange saved";
  });

  main.append(
    section("Profile", profileForm),
    section("Password", passwordForm),
    section("Exchange", exchangeForm),
    h("p", {}, "Sessions of this account are listed on the ", h("a", { href: "#/sessions", text: "sessions page" }), "."),
  );
}
