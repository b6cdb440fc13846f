// The user's security: two-factor (TOTP) enrolment, which live trading and exchange
// credentials require, and the kill switch for all of the user's traders.
// Routes: /api/users/mfa/totp/{setup,enable,disable}, /api/users/kill (docs/LIVE_TRADING.md).

import { get, post } from "./api.js";
import { clear, field, h, input, section } from "./dom.js";
import { submitForm } from "./forms.js";
import { killSwitchSection } from "./kill-switch.js";

const MFA = "/api/users/mfa/totp";

function codeInput(name = "code", props = {}) {
  return input(name, { inputmode: "numeric", autocomplete: "one-time-code", required: true, maxLength: 64, ...props });
}

export async function securityPage(main, { navigate }) {
  main.append(h("h1", { text: "Security" }));
  const profile = await get("/api/users/profile");
  const twoFactor = h("div", { id: "two-factor" });

  function showEnrolment() {
    const setupForm = submitForm(
      h(
        "form",
        { id: "totp-setup-form" },
        field("Password", input("password", { type: "password", required: true, autocomplete: "current-password" }), "Your sign-in password, to start the setup."),
        h("button", { type: "submit", text: "Set up two-factor" }),
      ),
      async (values) => {
        const pending = await post(`${MFA}/setup`, { password: values.password });
        showConfirmation(pending);
      },
      { fieldFor: { INVALID_CURRENT_PASSWORD: "password" } },
    );
    clear(
      twoFactor,
      h("p", { id: "mfa-state", text: "Two-factor is off. Live trading and exchange credentials need it." }),
      setupForm,
    );
  }

  function showConfirmation(pending) {
    const confirmForm = submitForm(
      h(
        "form",
        { id: "totp-enable-form" },
        field("Code from your authenticator", codeInput()),
        h("button", { type: "submit", text: "Turn on two-factor" }),
      ),
      async (values) => {
        const enabled = await post(`${MFA}/enable`, { code: values.code });
        showRecoveryCodes(enabled.recovery_codes);
      },
      { fieldFor: { INVALID_TOTP: "code" } },
    );
    clear(
      twoFactor,
      h("p", { text: "Add this key to your authenticator app (or open the link on the phone that has it), then type the code it shows." }),
      h("dl", { class: "secret" },
        h("dt", { text: "Secret key" }),
        h("dd", {}, h("code", { id: "totp-secret", text: pending.secret })),
        h("dt", { text: "Setup link" }),
        h("dd", {}, h("a", { id: "totp-uri", href: pending.otpauth_uri, text: pending.otpauth_uri })),
      ),
      confirmForm,
    );
  }

  function showRecoveryCodes(codes) {
    const done = h("button", { type: "button", text: "I have saved them" });
    done.addEventListener("click", () => navigate("#/security"));
    clear(
      twoFactor,
      h("p", { id: "mfa-state", text: "Two-factor is on." }),
      h("p", { role: "alert", text: "Recovery codes: each works once, to turn two-factor off without your authenticator. They are shown only now: save them." }),
      h("ul", { id: "recovery-codes", class: "codes" }, codes.map((code) => h("li", {}, h("code", { text: code })))),
      done,
    );
  }

  function showEnabled() {
    const disableForm = submitForm(
      h(
        "form",
        { id: "totp-disable-form" },
        field("Password", input("password", { type: "password", required: true, autocomplete: "current-password" })),
        field("Code or recovery code", codeInput("code", { inputmode: "text" })),
        h("button", { type: "submit", class: "danger", text: "Turn off two-factor" }),
      ),
      async (values) => {
        await post(`${MFA}/disable`, { password: values.password, code: values.code });
        navigate("#/security");
        return "Two-factor turned off";
      },
      { fieldFor: { INVALID_CURRENT_PASSWORD: "password", INVALID_TOTP: "code" } },
    );
    clear(twoFactor, h("p", { id: "mfa-state", text: "Two-factor is on." }), disableForm);
  }

  if (profile.mfa_enabled) showEnabled();
  else showEnrolment();

  main.append(
    section("Two-factor authentication", twoFactor),
    killSwitchSection({ prefix: "user-kill", what: "all your traders", url: "/api/users/kill" }),
  );
}
