// Where the map looks: a link's view, or every located incident with the zone ("Show all"),
// placed again on a resize until the reader moves the map. A frame shown after it loaded has no
// size: the view waits for one, and none is written from a zero-sized map (Leaflet#4421, #2738).
const L = window.L;

export class MapView {
  // zoneBounds: the zone's LatLngBounds; viewOf(): the view asked for ({lat, lon, zoom} from a
  // link, or null for every incident); points(): [lat, lon] pairs or LatLngBounds to fit
  // beside the zone; onResize(): the view was kept after a resize (markers to fan out again).
  constructor(map, { zoneBounds, viewOf, points, reducedMotion, onResize }) {
    this.map = map;
    this.zoneBounds = zoneBounds;
    this.points = points;
    this.viewOf = viewOf;
    this.reducedMotion = reducedMotion;
    this.container = map.getContainer();
    this.pending = false; // a view waits for the container to have a size
    this.placing = false; // a view the map sets itself is not the reader's: it is not written
    this.readerMoved = false;
    this.placedSize = "";
    this.onResize = onResize;
  }

  // From now on a change of the container's size places the view again (or keeps the reader's).
  watchSize() {
    const map = this.map;
    new ResizeObserver(() => {
      const size = this.size();
      if (this.zeroSized() || size === this.placedSize) return;
      map.invalidateSize({ animate: false }); // keeps the centre, to a pixel
      // Until the reader moves the map, its view is the one asked for (the link's, or every
      // incident): placed again exactly for the new size.
      if (this.pending || !this.readerMoved) this.place();
      else this.onResize();
    }).observe(this.container);
  }

  size() {
    return `${this.container.clientWidth}x${this.container.clientHeight}`;
  }

  zeroSized() {
    return this.container.clientWidth === 0 || this.container.clientHeight === 0;
  }

  // Whether a move of the map is the reader's (to be written in the URL).
  readersMove() {
    return !this.placing && !this.pending && !this.zeroSized();
  }

  // Places the view asked for (viewOf()), or waits for a size to place it.
  place() {
    this.placing = true;
    try {
      this.placeNow(this.viewOf());
    } finally {
      this.placing = false;
    }
  }

  placeNow(view) {
    if (this.zeroSized()) {
      // A provisional view (Leaflet needs one to place anything); the real one comes with a size.
      this.pending = true;
      if (!this.map._loaded) this.map.setView(this.zoneBounds.getCenter(), 8, { animate: false });
      return;
    }
    this.pending = false;
    this.placedSize = this.size();
    // reset: Leaflet would otherwise pan by whole pixels and lose the link's exact centre.
    if (view) this.map.setView([view.lat, view.lon], view.zoom, { animate: false, reset: true });
    else this.fitAll();
  }

  // Every located incident that the filters show, with the zone. The open legend's width is
  // kept clear on the right.
  fitAll({ animate = false } = {}) {
    const bounds = L.latLngBounds(this.zoneBounds.getSouthWest(), this.zoneBounds.getNorthEast());
    for (const point of this.points()) bounds.extend(point);
    const legend = this.container.querySelector(".legend");
    const legendOpen = legend && !legend.querySelector(".legend-body").hidden;
    const right = legendOpen ? legend.getBoundingClientRect().width + 20 : 24;
    this.map.fitBounds(bounds, { paddingTopLeft: [24, 24], paddingBottomRight: [right, 30], animate: animate && !this.reducedMotion });
  }

  // The view follows the selection now, not the one placed.
  panTo(latLng, { animate }) {
    this.map.panTo(latLng, { animate: animate && !this.reducedMotion });
    this.readerMoved = true;
  }
}
