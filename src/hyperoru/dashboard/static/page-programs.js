// Programs: a code editor with validate, save and a sandboxed test run.

import { del, get, post, put } from "./api.js";
import { field, h, input, section, select } from "./dom.js";
import { onPress, submitForm } from "./forms.js";

const TEMPLATE = `class Strategy:
    def init(self, params):
        self.bars = 0

    def should_trade(self, data):
        self.bars += 1
        if self.bars % 5:
            return Decision("hold")
        if data.get_positions():
            return Decision("close", "BTC", reasoning="take turns")
        return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="take turns")
`;

export async function programsPage(main, { params = [], navigate }) {
  main.append(h("h1", { text: "Programs" }));
  const [programs, accounts] = await Promise.all([get("/api/programs/"), get("/api/account/list")]);
  const picker = select("program", [["", "New program"], ...programs.map((p) => [p.id, p.name])]);
  const name = input("name", { required: true, maxLength: 128 });
  const code = h("textarea", { name: "code", rows: 18, spellcheck: false, class: "code", required: true });
  const messages = h("div", { id: "program-messages", role: "status" });
  const validate = h("button", { type: "button", text: "Validate" });
  const save = h("button", { type: "submit", text: "Save" });
  const remove = h("button", { type: "button", class: "danger", text: "Delete" });
  const symbol = input("symbol", { value: "BTC" });
  const trader = select("account_id", [["", "none"], ...accounts.map((a) => [a.id, a.name])]);
  const run = h("button", { type: "button", text: "Test run" });
  const output = h("pre", { id: "program-output", class: "preview", tabindex: "0", "aria-label": "Test run output" });

  const current = () => programs.find((p) => String(p.id) === picker.value) || null;
  function load() {
    const program = current();
    name.value = program ? program.name : "my-program";
    code.value = program ? program.code : TEMPLATE;
    remove.disabled = run.disabled = !program;
    messages.textContent = "";
  }
  picker.addEventListener("change", load);
  // The Tab key indents inside the editor; Escape then Tab leaves it (keyboard users).
  let escaped = false;
  code.addEventListener("keydown", (event) => {
    if (event.key === "Escape") escaped = true;
    else if (event.key === "Tab" && !event.shiftKey && !escaped) {
      event.preventDefault();
      code.setRangeText("    ", code.selectionStart, code.selectionEnd, "end");
    } else escaped = false;
  });

  onPress(validate, async () => {
    const answer = await post("/api/programs/validate", { code: code.value });
    messages.replaceChildren(
      answer.valid
        ? h("p", { class: "up", text: "Valid." })
        : h("ul", { class: "down" }, answer.errors.map((e) => h("li", { text: `line ${e.line ?? "?"}: ${e.message}` }))),
    );
  });
  const form = h(
    "form",
    { id: "program-form" },
    field("Program", picker),
    field("Name", name),
    field("Code", code, "Python defining class Strategy with should_trade(self, data). Tab indents; press Escape, then Tab, to leave."),
    messages,
    h("div", { class: "actions" }, validate, save, remove),
  );
  submitForm(form, async (values) => {
    const program = current();
    const body = { name: values.name, code: values.code };
    if (program) {
      Object.assign(program, await put(`/api/programs/${program.id}`, body));
      picker.selectedOptions[0].textContent = program.name;
    } else {
      const made = await post("/api/programs/", body);
      programs.push(made);
      picker.append(h("option", { value: String(made.id), text: made.name }));
      picker.value = String(made.id);
      load();
    }
    return `Saved ${values.name}`;
  });
  onPress(remove, async () => {
    await del(`/api/programs/${current().id}`);
    navigate("#/programs"); // drawn again: nothing chosen, so nothing to delete or run
  });
  onPress(run, async () => {
    const body = { program_id: current().id, symbol: symbol.value };
    if (trader.value) body.account_id = Number(trader.value);
    const answer = await post("/api/programs/test-run", body);
    output.textContent = JSON.stringify(answer, null, 2);
  });
  if (params[0]) picker.value = params[0]; // #/…/<id> opens that one (the assistant links its drafts)
  load();
  main.append(
    section("Editor", form),
    section("Test run (saved program)", h("div", { class: "inline-form" }, field("Symbol", symbol), field("Trader", trader), run), output),
  );
}
