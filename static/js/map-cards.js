// Where the selected incident's card goes on the full map. On a wide screen it is in the side
// panel's list, open under its line: the map shows only the highlighted marker and its regions
// (no popup repeats the card over the map). On a phone it is a sheet over the lower part of the
// screen (sheet.js), so a tap never scrolls the map away. Only where the list does not hold the
// incident (at scale, on another page of the list) does a popup on the map carry the card.
// (The embed puts it under the map instead: embed-card.js.)
import { buildCard } from "./card.js";
import { CardSheet } from "./sheet.js";

const L = window.L;

// The card open in the side panel's list (list.js), if any.
const listCard = () => document.querySelector("#incidents li.selected article.card");

function focusOn(element) {
  element.setAttribute("tabindex", "-1");
  element.focus({ preventScroll: true });
}

const focusTitle = (card) => focusOn(card.querySelector(".card-title"));

export class MapCards {
  // onClose(how): the reader closed the card ("popup" or "sheet"); isSelecting(): a selection
  // is being made (a popup closed by it is not the reader's doing).
  constructor(map, { sheetSection, onClose, isSelecting, reducedMotion }) {
    this.map = map;
    this.onClose = onClose;
    this.isSelecting = isSelecting;
    this.reducedMotion = reducedMotion;
    this.narrow = window.matchMedia("(max-width: 760px)");
    this.sheet = new CardSheet(sheetSection, { onClose: () => onClose("sheet") });
    this.popup = null;
  }

  // Whether the card (popup, sheet or the list's open card) holds this element: Escape there
  // closes it.
  holds(element) {
    if (!element) return false;
    return this.map.getContainer().contains(element) || this.sheet.section.contains(element)
      || Boolean(listCard()?.contains(element));
  }

  openPopup(marker, { focus = false } = {}) {
    // Popups fit the map: the popup adds about 45 px (padding, scroll bar) to its content's
    // width and the pan keeps 60 px clear, so 110 px less than the map keeps it all on screen.
    const box = this.map.getContainer().getBoundingClientRect();
    const [dx, dy] = marker.offset;
    const popup = L.popup({
      maxWidth: Math.min(340, box.width - 110),
      minWidth: Math.min(240, box.width - 110),
      maxHeight: Math.round(Math.min(window.innerHeight * 0.55, box.height * 0.7)),
      autoPanPaddingTopLeft: [50, 10],
      autoPanPaddingBottomRight: [10, 10],
      offset: [dx, dy - 4],
    }).setLatLng(marker.getLatLng()).setContent(buildCard(marker.feature, { headingLevel: 2 }));
    this.popup = popup;
    popup.on("remove", () => {
      if (this.popup === popup) this.popup = null;
      if (!this.isSelecting()) this.onClose("popup");
    });
    popup.openOn(this.map);
    if (focus) focusTitle(popup.getElement());
  }

  // The part of the map not covered by the sheet, in container pixels: [top, bottom].
  clearBand() {
    const box = this.map.getContainer().getBoundingClientRect();
    const cover = this.sheet.coveredFrom();
    const bottom = cover === null ? box.bottom : Math.min(box.bottom, cover);
    return [Math.max(0, -box.top), bottom - box.top];
  }

  show(marker, from) {
    if (from === "list" && this.narrow.matches) {
      this.hide(); // on a phone the list opens the card in the list itself, where the reader is
      return;
    }
    if (!this.narrow.matches) {
      this.sheet.hide();
      const card = listCard();
      if (card?.dataset.id === marker.feature.id) {
        if (this.popup) this.map.closePopup(this.popup);
        // Enter on the marker takes the focus into the card (Tab reaches its links).
        if (from === "keyboard") focusOn(card);
        return;
      }
      this.openPopup(marker, { focus: from === "keyboard" });
      return;
    }
    if (this.popup) this.map.closePopup(this.popup);
    this.sheet.show(buildCard(marker.feature, { headingLevel: 2 }), { focus: from === "keyboard" });
    this.map.fire("controlschange"); // the names make way for the sheet (labels.js)
    const [top, bottom] = this.clearBand();
    const size = this.map.getSize();
    const point = this.map.latLngToContainerPoint(marker.getLatLng());
    if (point.y < top + 30 || point.y > bottom - 30 || point.x < 20 || point.x > size.x - 20) {
      this.map.panBy(point.subtract(L.point(size.x / 2, (top + bottom) / 2)), { animate: !this.reducedMotion });
    }
  }

  hide() {
    if (this.popup) this.map.closePopup(this.popup);
    if (this.sheet.section.hidden) return;
    this.sheet.hide();
    this.map.fire("controlschange");
  }
}
