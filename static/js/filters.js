// The filter controls: the time range (timeline.js) and a checkbox per event type and per zone
// status. They report changes and show a state; they filter nothing themselves.
import { el } from "./dom.js";
import { STATUSES, TYPE_WORDS } from "./format.js";

const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const STATUS_LABELS = { inside: "Inside", uncertain: "Uncertain", contested: "Contested", outside: "Outside" };

// titles: each value's words for analysts (ACLED's own term), in a title attribute.
function checkboxes(fieldsetId, values, labels, onChange, titles = {}) {
  const fieldset = document.getElementById(fieldsetId);
  for (const value of values) {
    const id = `${fieldsetId}-${value.replace(/[^a-z]/gi, "-").toLowerCase()}`;
    const input = el("input", { type: "checkbox", id, value, checked: true });
    input.addEventListener("change", onChange);
    fieldset.append(el("label", { for: id, class: "check", title: titles[value] }, input, labels[value] || value));
  }
  return () => [...fieldset.querySelectorAll("input:checked")].map((i) => i.value);
}

function setChecked(fieldsetId, values) {
  for (const input of document.getElementById(fieldsetId).querySelectorAll("input")) {
    input.checked = values.includes(input.value);
  }
}

export class FilterControls {
  // onChange(part, {commit}): part is {from, to}, {types} or {status}; commit: a finished
  // choice (a history entry), not a slider being dragged or play moving on.
  // counts: {years, months}, how many incidents each period holds (the period menu, timeline.js).
  static async create({ types, first, last, counts, reducedMotion, onChange }) {
    const { Timeline } = await import("./timeline.js");
    return new FilterControls({ Timeline, types, first, last, counts, reducedMotion, onChange });
  }

  constructor({ Timeline, types, first, last, counts, reducedMotion, onChange }) {
    this.types = types;
    this.timeline = new Timeline({
      first, last, reducedMotion, counts,
      onChange: (range, { commit }) => onChange({ from: range.from, to: range.to }, { commit }),
    });
    const typeLabels = Object.fromEntries(types.map((t) => [t, TYPE_WORDS[t] ? capital(TYPE_WORDS[t]) : t]));
    const acled = Object.fromEntries(types.map((t) => [t, `ACLED event type: ${t}`]));
    const checkedTypes = checkboxes("type-filters", types, typeLabels, () => onChange({ types: checkedTypes() }, { commit: true }), acled);
    const checkedStatus = checkboxes("status-filters", STATUSES, STATUS_LABELS,
      () => onChange({ status: checkedStatus() }, { commit: true }));
  }

  // Show a state's range and filters (a link opened, back/forward).
  set(state) {
    this.timeline.set({ from: state.from, to: state.to });
    setChecked("type-filters", state.types || this.types);
    setChecked("status-filters", state.status || STATUSES);
  }

  // Play stops (an incident was selected).
  stop() {
    this.timeline.stop();
  }
}
