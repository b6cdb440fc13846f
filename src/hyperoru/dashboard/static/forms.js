// The one way a form or an action button of the dashboard talks to the API, so that each
// behaves alike: one request at a time (while it is in flight the form, or the button, is
// aria-busy and its submit buttons are disabled: a double click sends once), a success
// said in the toast, and a refusal's message in the toast and next to the control it
// names (the contract's details.field or details.fields[].field), else under the form.

import { formValues } from "./dom.js";
import { fieldErrors } from "./field-errors.js";
import { toast } from "./toast.js";

// ``work`` runs unless ``busy`` is already busy. The ``controls`` are disabled meanwhile,
// then put back as they were (a page may have disabled one for reasons of its own), so
// an action that makes its own button unavailable draws the page again instead.
async function inFlight(busy, controls, work, refused) {
  if (busy.getAttribute("aria-busy") === "true") return;
  const wasDisabled = controls.map((control) => control.disabled);
  busy.setAttribute("aria-busy", "true");
  for (const control of controls) control.disabled = true;
  try {
    const said = await work();
    if (said) toast(said);
  } catch (error) {
    refused(error);
  } finally {
    busy.removeAttribute("aria-busy");
    controls.forEach((control, index) => {
      control.disabled = wasDisabled[index];
    });
  }
}

// ``action(values, form)`` sends the form (``values`` as dom.js formValues reads them);
// the text it resolves to, if any, is toasted. ``fieldFor`` maps a refusal's code to the
// control it is about where the refusal names none, or names the API's field rather than
// this form's (e.g. { FACTOR_NAME_TAKEN: "name", WEAK_PASSWORD: "new_password" }).
// Resetting the form takes the errors shown away.
export function submitForm(form, action, { fieldFor = {} } = {}) {
  const errors = fieldErrors(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submits = [...form.elements].filter((control) => control.type === "submit");
    const send = () => {
      errors.clear();
      return action(formValues(form), form);
    };
    inFlight(form, submits, send, (error) => {
      errors.show(error, fieldFor[error.code]);
      toast(error.message);
    });
  });
  return form;
}

// A button that acts at once (run now, cancel, delete): the same busy state and toasts.
export function onPress(button, action) {
  button.addEventListener("click", () => inFlight(button, [button], action, (error) => toast(error.message)));
  return button;
}
