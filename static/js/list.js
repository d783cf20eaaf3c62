// The ordered list of visible incidents (keyboard navigable), and the text summary of the map.
import { buildCard } from "./card.js";
import { el } from "./dom.js";
import { monthText, STATUS_TEXT, statusCounts, whenText } from "./format.js";
import { markerSvg } from "./markers.js";

export function summaryText(all, visible, range, radiusKm) {
  const dates = visible.map((f) => f.properties.date_start).sort();
  const span = dates.length ? `from ${monthText(dates[0])} to ${monthText(visible.map((f) => f.properties.date_end).sort().at(-1))}` : "";
  const head = `Map of the ${radiusKm} km At Tanf de-confliction zone.`;
  if (!visible.length) return `${head} No incidents match the filters (${all.length} in all).`;
  const shown = visible.length === all.length ? `${all.length} incidents` : `${visible.length} of ${all.length} incidents`;
  const unlocated = visible.filter((f) => !f.properties.located).length;
  let note = unlocated ? ` ${unlocated} not located on the map.` : "";
  // The selected incident's answer, in the server's words (app/web/state.py words it the same).
  const selected = visible.find((f) => f.id === range.sel);
  if (selected) note += ` Selected: ${selected.properties.title}. ${selected.properties.zone_answer}`;
  return `${head} ${shown} ${span}: ${statusCounts(visible)}.${note}`;
}

export class IncidentList {
  constructor(container, { onSelect }) {
    this.container = container;
    this.onSelect = onSelect;
    this.items = new Map();
    container.addEventListener("keydown", (event) => this.keydown(event));
  }

  render(features, selectedId) {
    this.items.clear();
    const children = features.map((feature) => {
      const p = feature.properties;
      const expanded = feature.id === selectedId;
      const button = el("button", {
        type: "button",
        class: "incident-button",
        "aria-expanded": expanded ? "true" : "false",
        "data-id": feature.id,
        onclick: () => this.onSelect(expanded ? null : feature.id, { from: "list" }),
      },
      el("span", { class: "icon" }, markerSvg(p.event_type, p.zone_status, 18)),
      el("span", { class: "title", dir: "auto" }, p.title),
      el("span", { class: "when" }, whenText(p)),
      el("span", { class: `status-word status-${p.zone_status}` }, p.located ? STATUS_TEXT[p.zone_status] : "Not located"));
      const slot = el("div", { class: "card-slot" });
      if (expanded) slot.append(buildCard(feature, { headingLevel: 3 }));
      const item = el("li", { class: expanded ? "selected" : "" }, button, slot);
      this.items.set(feature.id, item);
      return item;
    });
    this.container.replaceChildren(...children);
  }

  focus(id) {
    this.items.get(id)?.querySelector("button")?.focus({ preventScroll: false });
  }

  keydown(event) {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
    const buttons = [...this.container.querySelectorAll(".incident-button")];
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    event.preventDefault();
    const next = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
    buttons[Math.max(0, Math.min(buttons.length - 1, next))].focus();
  }
}
