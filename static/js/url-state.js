// The map's state (view, time range, filters, selected incident) and the address that holds it
// (state.js reads and writes it): a finished choice is a new history entry, anything else
// replaces the current one. The embed only replaces (its history is the article's) and keeps
// its fragment (WordPress's "#?secret="); a sandbox that refuses even that keeps it in memory.
import { readState, writeState } from "./state.js";

// writeState gives "?a=b" or, for the default view, the bare path.
const queryOf = (url) => (url.startsWith("?") ? url : "");

export class UrlState {
  // defaults: {from, to, types, status}, which are not written; onState(query): the state's
  // query ("" for the default), after every change (the embed code and "Open the full map").
  constructor({ embed, defaults, onState = () => {} }) {
    this.embed = embed;
    this.defaults = defaults;
    this.onState = onState;
    this.state = readState(window.location.search);
  }

  // The state of the address now (after back/forward).
  reread() {
    this.state = readState(window.location.search);
    return this.state;
  }

  get query() {
    return queryOf(writeState(this.state, this.defaults));
  }

  // mode: "push" (a finished choice) or "replace".
  save(mode) {
    const url = writeState(this.state, this.defaults);
    this.onState(queryOf(url));
    if (url === window.location.search || (url === window.location.pathname && !window.location.search)) return;
    try {
      const method = mode === "push" && !this.embed ? "pushState" : "replaceState";
      window.history[method](null, "", url + (this.embed ? window.location.hash : ""));
    } catch {
      /* sandboxed: keep the state in memory only */
    }
  }
}
