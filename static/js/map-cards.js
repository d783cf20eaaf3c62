// Where the selected incident's card goes on the full map: a popup on a wide screen; on a phone
// a sheet over the lower part of the screen (sheet.js), so a tap never scrolls the map away.
// (The embed puts it under the map instead: embed-card.js.)
import { buildCard } from "./card.js";
import { CardSheet } from "./sheet.js";

const L = window.L;

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

  // Whether the card (popup or sheet) holds this element: Escape there closes it.
  holds(element) {
    return Boolean(element) && (this.map.getContainer().contains(element) || this.sheet.section.contains(element));
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
    if (focus) {
      const title = popup.getElement().querySelector(".card-title");
      title.setAttribute("tabindex", "-1");
      title.focus({ preventScroll: true });
    }
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
      this.openPopup(marker, { focus: from === "keyboard" });
      return;
    }
    if (this.popup) this.map.closePopup(this.popup);
    this.sheet.show(buildCard(marker.feature, { headingLevel: 2 }), { focus: from === "keyboard" });
    const [top, bottom] = this.clearBand();
    const size = this.map.getSize();
    const point = this.map.latLngToContainerPoint(marker.getLatLng());
    if (point.y < top + 30 || point.y > bottom - 30 || point.x < 20 || point.x > size.x - 20) {
      this.map.panBy(point.subtract(L.point(size.x / 2, (top + bottom) / 2)), { animate: !this.reducedMotion });
    }
  }

  hide() {
    if (this.popup) this.map.closePopup(this.popup);
    this.sheet.hide();
  }
}
