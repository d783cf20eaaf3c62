// The time range: a period menu (all dates, each year and month that holds incidents), two date
// fields and two range controls over the incidents' days, all kept in step; and play/pause,
// which slides the window forward.
import { dayText, monthText } from "./format.js";

const DAY_MS = 86_400_000;
export const toDay = (iso) => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
export const fromDay = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);

function lastOfMonth(year, month) {
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10); // month is 1-based
}

const nextMonth = (m) => {
  const [y, mo] = m.split("-").map(Number);
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, "0")}`;
};

// {years: {"2017": 14}, months: {"2017-06": 9}}: how many incidents each period holds (those
// whose dates touch it, as the filter counts them), from the incidents themselves. At scale
// the API's grid gives the same counts (its totals' years and months).
export function periodCounts(features) {
  const years = {};
  const months = {};
  for (const f of features) {
    const seen = new Set();
    for (let m = f.properties.date_start.slice(0, 7); m <= f.properties.date_end.slice(0, 7); m = nextMonth(m)) {
      months[m] = (months[m] || 0) + 1;
      seen.add(m.slice(0, 4));
    }
    for (const y of seen) years[y] = (years[y] || 0) + 1;
  }
  return { years, months };
}

const incidents = (n) => `${n.toLocaleString("en")} incident${n === 1 ? "" : "s"}`;

// [{value: "2017" | "2017-06", label, from, to}]: each year and each month that holds
// incidents, with how many (a period that holds none is not offered).
export function periods({ years, months }, first, last) {
  const clip = (from, to) => ({ from: from < first ? first : from, to: to > last ? last : to });
  const out = [];
  for (const y of Object.keys(years).sort()) {
    out.push({ value: y, label: `${y} (${incidents(years[y])})`, ...clip(`${y}-01-01`, `${y}-12-31`) });
    for (const m of Object.keys(months).filter((x) => x.startsWith(`${y}-`)).sort()) {
      const [yy, mm] = m.split("-").map(Number);
      out.push({ value: m, label: `\u2003${monthText(`${m}-01`)} (${incidents(months[m])})`, ...clip(`${m}-01`, lastOfMonth(yy, mm)) });
    }
  }
  return out;
}

export class Timeline {
  // onChange(range, {fromPlay, commit}): commit is true for a finished choice (a period, a date
  // typed, a slider let go), which the page records in its history.
  // counts: {years, months} (periodCounts, or the API's grid totals).
  constructor({ first, last, counts, onChange, reducedMotion }) {
    this.firstIso = first;
    this.lastIso = last;
    this.first = toDay(first);
    this.last = toDay(last);
    this.onChange = onChange;
    this.reducedMotion = reducedMotion;
    this.from = document.getElementById("from");
    this.to = document.getElementById("to");
    this.fromDate = document.getElementById("from-date");
    this.toDate = document.getElementById("to-date");
    this.period = document.getElementById("period");
    this.play = document.getElementById("play");
    for (const input of [this.from, this.to]) {
      input.min = "0";
      input.max = String(this.last - this.first);
      input.step = "1";
    }
    for (const input of [this.fromDate, this.toDate]) {
      input.min = first;
      input.max = last;
    }
    this.periods = periods(counts, first, last);
    this.period.replaceChildren(new Option(`all dates (${monthText(first)} – ${monthText(last)})`, ""),
      ...this.periods.map((p) => new Option(p.label, p.value)), new Option("dates chosen below", "custom"));
    this.from.addEventListener("input", () => this.changed("from"));
    this.to.addEventListener("input", () => this.changed("to"));
    for (const input of [this.from, this.to]) input.addEventListener("change", () => this.emit({ commit: true }));
    this.fromDate.addEventListener("change", () => this.typed(this.fromDate, "from"));
    this.toDate.addEventListener("change", () => this.typed(this.toDate, "to"));
    this.period.addEventListener("change", () => this.chosen());
    this.play.addEventListener("click", () => (this.timer ? this.stop() : this.start()));
    this.timer = null;
  }

  get range() {
    return { from: fromDay(this.first + Number(this.from.value)), to: fromDay(this.first + Number(this.to.value)) };
  }

  set({ from, to }) {
    const span = this.last - this.first;
    const clamp = (v, fallback) => Math.max(0, Math.min(span, Number.isFinite(v) ? v : fallback));
    const a = clamp(from ? toDay(from) - this.first : 0, 0);
    const b = clamp(to ? toDay(to) - this.first : span, span);
    this.from.value = String(Math.min(a, b));
    this.to.value = String(Math.max(a, b));
    this.label();
  }

  // Everything shows the range the sliders hold: labels, date fields, the period menu.
  label() {
    const { from, to } = this.range;
    document.getElementById("from-label").textContent = dayText(from);
    document.getElementById("to-label").textContent = dayText(to);
    this.from.setAttribute("aria-valuetext", dayText(from));
    this.to.setAttribute("aria-valuetext", dayText(to));
    this.fromDate.value = from;
    this.toDate.value = to;
    const all = from === this.firstIso && to === this.lastIso;
    const match = this.periods.find((p) => p.from === from && p.to === to);
    this.period.value = all ? "" : match ? match.value : "custom";
  }

  emit({ fromPlay = false, commit = false } = {}) {
    this.onChange(this.range, { fromPlay, commit });
  }

  changed(which) {
    if (Number(this.from.value) > Number(this.to.value)) {
      if (which === "from") this.to.value = this.from.value;
      else this.from.value = this.to.value;
    }
    this.label();
    this.emit();
  }

  typed(input, which) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(input.value)) {
      this.label(); // an empty or half-typed field goes back to the range held
      return;
    }
    const range = this.range;
    range[which] = input.value;
    if (range.from > range.to) range[which === "from" ? "to" : "from"] = input.value;
    this.set(range);
    this.emit({ commit: true });
  }

  chosen() {
    const value = this.period.value;
    if (value === "custom") {
      this.label();
      return;
    }
    const period = this.periods.find((p) => p.value === value);
    this.set(period ? { from: period.from, to: period.to } : { from: this.firstIso, to: this.lastIso });
    this.emit({ commit: true });
  }

  start() {
    const span = this.last - this.first;
    let width = Number(this.to.value) - Number(this.from.value);
    if (width >= span || Number(this.to.value) >= span) {
      // Start over with a three-month window from the beginning.
      width = Math.min(90, span);
      this.from.value = "0";
      this.to.value = String(width);
    }
    this.play.textContent = "Pause";
    this.play.setAttribute("aria-pressed", "true");
    const step = Math.max(1, Math.round(span / 60));
    this.timer = window.setInterval(() => {
      const next = Math.min(span, Number(this.to.value) + step);
      this.to.value = String(next);
      this.from.value = String(Math.max(0, next - width));
      this.label();
      this.emit({ fromPlay: true });
      if (next >= span) this.stop();
    }, this.reducedMotion ? 1200 : 500);
    this.label();
    this.emit({ fromPlay: true });
  }

  stop() {
    if (!this.timer) return;
    window.clearInterval(this.timer);
    this.timer = null;
    this.play.textContent = "Play";
    this.play.setAttribute("aria-pressed", "false");
  }

  get playing() {
    return this.timer !== null;
  }
}
