// An API refusal shown next to the form control it names (details.field or
// details.fields[].field), else under the form; the control is described by its message.
// Used through forms.js. Resetting the form clears what is shown.

import { h } from "./dom.js";

export function fieldErrors(form) {
  const shown = [];

  function place(control, text) {
    const note = h("p", { class: "error", role: "alert", id: `${control.id || control.name}-error`, text });
    const described = control.getAttribute("aria-describedby");
    control.after(note);
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", described ? `${described} ${note.id}` : note.id);
    shown.push([note, control, described]);
  }

  function clear() {
    for (const [note, control, described] of shown.splice(0)) {
      note.remove();
      if (!control) continue;
      control.removeAttribute("aria-invalid");
      if (described) control.setAttribute("aria-describedby", described);
      else control.removeAttribute("aria-describedby");
    }
  }

  // ``chosen``: the control the page knows this refusal is about, before the field the
  // refusal names (a refusal may name none, e.g. a name taken, or the API's own name for
  // it, e.g. "password" for a form's "new_password").
  function show(failure, chosen) {
    clear();
    const details = failure.details || {};
    const named = chosen || details.field || (details.fields || [])[0]?.field;
    const control = named && form.elements.namedItem(String(named).split(".").pop());
    if (!control || !control.after) {
      const note = h("p", { class: "error", role: "alert", id: form.id ? `${form.id}-error` : null, text: failure.message });
      form.append(note);
      shown.push([note, null]);
      return;
    }
    place(control, failure.message);
    // The parser names where the mistake is: the caret goes there.
    if (typeof details.position === "number" && control.setSelectionRange) {
      control.focus();
      control.setSelectionRange(details.position, details.position);
    }
  }

  form.addEventListener("reset", clear);
  return { show, clear };
}
