// Two range controls over the incidents' days, and play/pause that slides the window forward.
import { dayText } from "./format.js";

const DAY_MS = 86_400_000;
export const toDay = (iso) => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
export const fromDay = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export class Timeline {
  constructor({ first, last, onChange, reducedMotion }) {
    this.first = toDay(first);
    this.last = toDay(last);
    this.onChange = onChange;
    this.reducedMotion = reducedMotion;
    this.from = document.getElementById("from");
    this.to = document.getElementById("to");
    this.play = document.getElementById("play");
    for (const input of [this.from, this.to]) {
      input.min = "0";
      input.max = String(this.last - this.first);
      input.step = "1";
    }
    this.from.addEventListener("input", () => this.changed("from"));
    this.to.addEventListener("input", () => this.changed("to"));
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

  label() {
    const { from, to } = this.range;
    document.getElementById("from-label").textContent = dayText(from);
    document.getElementById("to-label").textContent = dayText(to);
    this.from.setAttribute("aria-valuetext", dayText(from));
    this.to.setAttribute("aria-valuetext", dayText(to));
  }

  changed(which) {
    if (Number(this.from.value) > Number(this.to.value)) {
      if (which === "from") this.to.value = this.from.value;
      else this.from.value = this.to.value;
    }
    this.label();
    this.onChange(this.range, { fromPlay: false });
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
      this.onChange(this.range, { fromPlay: true });
      if (next >= span) this.stop();
    }, this.reducedMotion ? 1200 : 500);
    this.label();
    this.onChange(this.range, { fromPlay: true });
  }

  stop() {
    window.clearInterval(this.timer);
    this.timer = null;
    this.play.textContent = "Play";
    this.play.setAttribute("aria-pressed", "false");
  }
}
