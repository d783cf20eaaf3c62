// The ordered list of visible incidents (keyboard navigable), and the text summary of the map.
import { buildCard } from "./card.js";
import { el } from "./dom.js";
import { dayText, monthText, STATUS_TEXT, STATUSES, whenText } from "./format.js";
import { markerSvg } from "./markers.js";

// The period a range of days covers, in words (app/web/state.py's period_words): a whole month
// ("June 2017"), a whole year ("2017"), or its first and last days. -> {during, start, end}.
export function periodWords(from, to) {
  const [fy, fm, fd] = from.split("-");
  const [ty, tm, td] = to.split("-");
  const lastDay = new Date(Date.UTC(Number(ty), Number(tm), 0)).getUTCDate();
  if (fd === "01" && Number(td) === lastDay && fy === ty) {
    if (fm === tm) return { during: `in ${monthText(from)}`, start: monthText(from), end: monthText(to) };
    if (fm === "01" && tm === "12") return { during: `in ${fy}`, start: fy, end: fy };
  }
  return { during: `from ${dayText(from)} to ${dayText(to)}`, start: dayText(from), end: dayText(to) };
}

// The range the reader chose, or null for all the dates there are ([first, last]).
function chosenRange(range, first, last) {
  const from = range.from || first;
  const to = range.to || last;
  return from <= first && to >= last ? null : { from, to };
}

// The months the incidents shown span, in words: "in June 2018" when they are one month
// (app/web/state.py's span_words).
function spanWords(first, last) {
  return first === last ? `in ${first}` : `from ${first} to ${last}`;
}

export function summaryText(all, visible, range, radiusKm) {
  const counts = { inside: 0, uncertain: 0, contested: 0, outside: 0 };
  for (const f of visible) counts[f.properties.zone_status] += 1;
  const starts = visible.map((f) => f.properties.date_start).sort();
  const first = all.map((f) => f.properties.date_start).sort()[0];
  const last = all.map((f) => f.properties.date_end).sort().at(-1);
  const chosen = all.length ? chosenRange(range, first, last) : null;
  return summaryOf({
    total: all.length,
    matched: visible.length,
    counts,
    span: starts.length ? [starts[0], visible.map((f) => f.properties.date_end).sort().at(-1)] : null,
    range: chosen,
    before: chosen ? visible.filter((f) => f.properties.date_start < chosen.from).length : 0,
    after: chosen ? visible.filter((f) => f.properties.date_end > chosen.to).length : 0,
    unlocated: visible.filter((f) => !f.properties.located).length,
    selected: visible.find((f) => f.id === range.sel),
  }, radiusKm);
}

// The same sentence from counts (at scale, the API's: /api/collections/events/grid's totals).
// range: the days the reader chose ({from, to}), or null for all; before, after: how many of
// the incidents shown began before it or went on after it (an incident is shown when its days
// meet the range, as the API's datetime filter does).
export function summaryOf({ total, matched, counts, span, range = null, before = 0, after = 0, unlocated, selected }, radiusKm) {
  const n = (x) => x.toLocaleString("en");
  const head = `Map of the ${radiusKm} km At Tanf de-confliction zone.`;
  if (!matched) return `${head} No incidents match the filters (${n(total)} in all).`;
  const shown = matched === total ? `${n(total)} incidents` : `${n(matched)} of ${n(total)} incidents`;
  const period = range ? periodWords(range.from, range.to) : null;
  const when = period ? period.during : span ? spanWords(monthText(span[0]), monthText(span[1])) : "";
  let note = "";
  if (period && before) note += ` ${n(before)} of them began before ${period.start}.`;
  if (period && after) note += ` ${n(after)} of them went on after ${period.end}.`;
  if (unlocated) note += ` ${n(unlocated)} not located on the map.`;
  // The selected incident's answer, in the server's words (app/web/state.py words it the same).
  if (selected) note += ` Selected: ${selected.properties.title}. ${selected.properties.zone_answer}`;
  const words = STATUSES.map((s) => `${n(counts[s] || 0)} ${s}`).join(", ");
  return `${head} ${shown} ${when}: ${words}.${note}`;
}

export class IncidentList {
  constructor(container, { onSelect }) {
    this.container = container;
    this.onSelect = onSelect;
    this.items = new Map();
    container.addEventListener("keydown", (event) => this.keydown(event));
  }

  // complete(id): whether the incident's details are in (its card shows them); until then the
  // selected item says they are loading.
  // Drawn again only when what it shows changed, so the focus stays where the reader put it
  // (in the open card, on one of its links) while the map redraws around it.
  render(features, selectedId, complete = () => true) {
    const shown = `${features.map((f) => f.id).join("\n")}|${selectedId}|${selectedId && complete(selectedId)}`;
    if (shown === this.shown) return;
    this.shown = shown;
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
      if (expanded) {
        slot.append(complete(feature.id) ? buildCard(feature, { headingLevel: 3, told: true })
          : el("p", { class: "loading", role: "status" }, "Loading the details…"));
      }
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
