// The selected incident's card on a phone: a sheet over the lower part of the screen, with a
// "Back to the map" button (and Escape), so tapping a marker keeps the map in view.

export class CardSheet {
  constructor(section, { onClose }) {
    this.section = section;
    this.slot = section.querySelector("#sheet-card");
    this.closeButton = section.querySelector("#sheet-close");
    this.closeButton.addEventListener("click", () => onClose());
    section.addEventListener("keydown", (event) => {
      if (event.key === "Escape") onClose();
    });
  }

  show(card, { focus = false } = {}) {
    this.slot.replaceChildren(card);
    this.section.hidden = false;
    this.section.scrollTop = 0;
    if (focus) this.closeButton.focus();
  }

  hide() {
    if (this.section.hidden) return;
    this.section.hidden = true;
    this.slot.replaceChildren();
  }

  // The viewport y where the sheet starts, or null when it is closed.
  coveredFrom() {
    return this.section.hidden ? null : this.section.getBoundingClientRect().top;
  }
}
