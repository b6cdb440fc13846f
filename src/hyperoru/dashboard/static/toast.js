// The page's one toast: a short message (what a form did, or the API's refusal) that
// fades after a few seconds. Its own module so that forms.js can toast without importing
// app.js, which imports every page.

const toastEl = document.getElementById("toast");
let timer = null;

export function toast(message) {
  toastEl.textContent = message;
  toastEl.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => {
    toastEl.hidden = true;
  }, 6000);
}
