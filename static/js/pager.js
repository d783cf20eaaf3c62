// The list's pages at scale: "Previous", "1–100 of 100,000", "Next" under the list.
import { el } from "./dom.js";
import { LIST_PAGE } from "./view-data.js";

export class ListPager {
  // after: the element the pager follows; onTurn(step): -1 or +1.
  constructor(after, { onTurn }) {
    this.onTurn = onTurn;
    this.nav = el("nav", { class: "pager", "aria-label": "Pages of the list", hidden: true });
    after.after(this.nav);
  }

  // offset: the first shown's index; shown: how many on this page; matched: how many in all.
  render({ offset, shown, matched }) {
    this.nav.hidden = matched <= LIST_PAGE;
    if (this.nav.hidden) return;
    const n = (x) => x.toLocaleString("en");
    this.nav.replaceChildren(
      el("button", { type: "button", disabled: offset === 0, onclick: () => this.onTurn(-1) }, "Previous"),
      el("span", { role: "status" }, `${n(offset + 1)}–${n(offset + shown)} of ${n(matched)}`),
      el("button", { type: "button", disabled: offset + LIST_PAGE >= matched, onclick: () => this.onTurn(1) }, "Next"));
  }
}
