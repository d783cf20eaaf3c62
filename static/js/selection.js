// The selected incident: picked on the map (click, Enter), in the list or by a link, it is
// written in the URL, its card shown (cards: map-cards.js or embed-card.js), its regions drawn
// and, where it was not picked on the map, its marker brought into view. Escape, or the card's
// own close, drops it and gives the focus back to its marker.
export class Selection {
  // render(): draw the map and list for the current state; regionsOf(id): load and draw an
  // incident's regions; stopPlay(): the time range's play stops.
  constructor({ urlState, data, layers, view, list, render, regionsOf, stopPlay, embed, reducedMotion }) {
    Object.assign(this, { urlState, data, layers, view, list, render, regionsOf, stopPlay, embed, reducedMotion });
    this.selecting = false; // a card closed meanwhile is not the reader's doing
    this.cards = null;
    // Escape closes the card and gives the focus back to its marker.
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.id || !this.cards?.holds(document.activeElement)) return;
      event.preventDefault();
      this.close("escape", { refocus: true });
    });
  }

  get id() {
    return this.urlState.state.sel;
  }

  // The reader closed the card (how: "popup", "sheet", "escape"); refocus: the focus goes back
  // to where the incident was picked: its marker, or its line in the list (picked there, or
  // not on the map).
  close(how, { refocus = false } = {}) {
    const id = this.id;
    if (!id) return;
    const marker = this.layers.shownMarker(id);
    const toList = this.pickedIn === "list" || !marker;
    this.select(null, { from: how });
    if (!refocus) return;
    // A marker that goes back into a numbered circle once no longer selected: the circle.
    const element = marker?.getElement();
    const stack = element?.classList.contains("stacked")
      ? document.querySelector(`#map .cell-icon[data-stack="${element.dataset.stack}"]`) : null;
    const target = toList ? document.querySelector(`#incidents button[data-id="${CSS.escape(id)}"]`) : stack || element;
    target?.focus({ preventScroll: true });
  }

  // from: "map", "keyboard", "list", "history", "init" (a link) or "code". -> Promise, settled
  // when the card is shown.
  select(id, { from = "code" } = {}) {
    // Play stops when the reader picks an incident, so its card does not vanish under them.
    if (id && from !== "init") this.stopPlay();
    const previous = this.id;
    this.urlState.state.sel = id;
    if (!["history", "init"].includes(from) && previous !== id) this.urlState.save("push");
    if (id && !this.data.complete(id)) {
      // The card needs the incident's details: shown selected now, its card when they are in.
      this.during(() => this.render());
      return this.data.details(id).then(() => { if (this.id === id) this.show(id, from); }, () => {
        if (this.id !== id) return;
        this.urlState.state.sel = null; // not an incident of this map (an old link): nothing selected
        this.render();
        this.urlState.save("replace");
      });
    }
    this.show(id, from);
    return Promise.resolve();
  }

  during(action) {
    this.selecting = true;
    try {
      action();
    } finally {
      this.selecting = false;
    }
  }

  show(id, from) {
    this.during(() => this.showNow(id, from));
  }

  showNow(id, from) {
    if (id) this.pickedIn = from;
    this.render();
    if (id) this.regionsOf(id);
    const marker = this.layers.shownMarker(id);
    if (marker) {
      // The embed opens on its whole view (the zone and every incident), the selection inside it;
      // a link or a history entry that names a view opens at that view, as it was shared.
      const linked = (from === "init" || from === "history") && this.urlState.state.view;
      const pan = !(this.embed && from === "init") && !linked && from !== "map" && from !== "keyboard";
      if (pan) this.view.panTo(marker.getLatLng(), { animate: from !== "init" });
      // The card shows the whole incident (its details are in by then: select waits for them).
      marker.feature = this.data.featureOf(id);
      this.cards.show(marker, from);
    } else {
      this.cards.hide();
    }
    const item = document.querySelector("#incidents li.selected");
    // Bring the card's start into view where the list scrolls on its own: that list only, never
    // the page (on a phone the list does not scroll on its own).
    const scroller = item?.closest(".panel, .embed-list");
    if (id && item && scroller && getComputedStyle(scroller).overflowY === "auto" && from !== "list") {
      const top = scroller.scrollTop + item.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      scroller.scrollTo({ top, behavior: this.reducedMotion || from !== "map" ? "auto" : "smooth" });
    }
    if (id && from === "list") this.list.focus(id);
  }
}
