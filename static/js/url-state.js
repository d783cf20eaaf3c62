// The map's state (view, time range, filters, selected incident) and the address that holds it
// (state.js reads and writes it): a finished choice is a new history entry, anything else
// replaces the current one. The embed only replaces (its history is the article's) and keeps
// its fragment (WordPress's "#?secret="); a sandbox that refuses even that keeps it in memory.
import { STATE_KEYS, readState, writeState } from "./state.js";

// writeState gives "?a=b" or, for the default view, the bare path.
const queryOf = (url) => (url.startsWith("?") ? url : "");

// The embed's own options in its address (timeline=1, list=1, theme=dark, static=1, width…):
// not the map's state, so every write keeps them ahead of it ("?timeline=1&from=…"); without
// them a period chosen in a timeline embed wrote "?from=…&to=…" and a reload lost the timeline.
function withOptions(url) {
  const options = new URLSearchParams(window.location.search);
  for (const key of STATE_KEYS) options.delete(key);
  const kept = options.toString().replaceAll("%2C", ",");
  if (!kept) return url;
  return url.startsWith("?") ? `?${kept}&${url.slice(1)}` : `?${kept}`;
}

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
    const state = writeState(this.state, this.defaults);
    this.onState(queryOf(state));
    const url = this.embed ? withOptions(state) : state;
    if (url === window.location.search || (url === window.location.pathname && !window.location.search)) return;
    try {
      const method = mode === "push" && !this.embed ? "pushState" : "replaceState";
      window.history[method](null, "", url + (this.embed ? window.location.hash : ""));
    } catch {
      /* sandboxed: keep the state in memory only */
    }
  }
}
