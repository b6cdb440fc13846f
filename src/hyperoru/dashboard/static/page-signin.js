// Sign in and create an account, on the public /api/users routes.

import { post, setSession } from "./api.js";
import { field, formValues, h, input } from "./dom.js";

export function signInPage(main, { onSignedIn }) {
  const status = h("p", { class: "error", role: "alert", id: "signin-error" });
  const signIn = h(
    "form",
    { class: "card narrow", id: "signin-form", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", text: "Sign in" }),
    field("Username or email", input("login", { autocomplete: "username", required: true })),
    field("Password", input("password", { type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit", text: "Sign in" }),
    status,
  );
  signIn.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    const values = formValues(signIn);
    try {
      const answer = await post("/api/users/login", {
        login: values.login,
        password: values.password,
        client_name: "dashboard",
      });
      setSession(answer.session_token);
      onSignedIn();
    } catch (error) {
      status.textContent = error.message;
    }
  });

  const registerStatus = h("p", { class: "error", role: "alert", id: "register-error" });
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
    registerStatus,
  );
  register.addEventListener("submit", async (event) => {
    event.preventDefault();
    registerStatus.textContent = "";
    const values = formValues(register);
    try {
      await post("/api/users/register", values);
      const answer = await post("/api/users/login", {
        username: values.username,
        password: values.password,
        client_name: "dashboard",
      });
      setSession(answer.session_token);
      onSignedIn();
    } catch (error) {
      registerStatus.textContent = error.message;
    }
  });
  main.append(h("div", { class: "signin" }, signIn, register));
  signIn.querySelector("input").focus();
}
