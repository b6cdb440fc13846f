// Sign in and create an account, on the public /api/users routes.

import { post, setSession } from "./api.js";
import { field, h, input } from "./dom.js";
import { submitForm } from "./forms.js";

export function signInPage(main, { onSignedIn }) {
  const signIn = h(
    "form",
    { class: "card narrow", id: "signin-form", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", text: "Sign in" }),
    field("Username or email", input("login", { autocomplete: "username", required: true })),
    field("Password", input("password", { type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit", text: "Sign in" }),
  );
  submitForm(signIn, async (values) => {
    const answer = await post("/api/users/login", { login: values.login, password: values.password, client_name: "dashboard" });
    setSession(answer.session_token);
    onSignedIn();
  });

  const register = h(
    "form",
    { class: "card narrow", id: "register-form", "aria-labelledby": "register-title" },
    h("h2", { id: "register-title", text: "Create an account" }),
    field("Username", input("username", { autocomplete: "username", required: true, minLength: 3, maxLength: 32 })),
    field("Email (optional)", input("email", { type: "email", autocomplete: "email" })),
    field(
      "Password",
      input("password", { type: "password", autocomplete: "new-password", required: true, minLength: 8 }),
      "At least 8 characters, not your username or email.",
    ),
    h("button", { type: "submit", text: "Create account and sign in" }),
  );
  submitForm(register, async (values) => {
    await post("/api/users/register", values);
    const answer = await post("/api/users/login", { username: values.username, password: values.password, client_name: "dashboard" });
    setSession(answer.session_token);
    onSignedIn();
  });
  main.append(h("div", { class: "signin" }, signIn, register));
  signIn.querySelector("input").focus();
}
