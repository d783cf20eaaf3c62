// Counts per grid cell (/api/collections/events/grid), drawn where more incidents fall in view
// than a reader can tell apart: a numbered circle at the mean of its incidents, which zooms in
// to them when clicked (or Enter). The server's SVG draws the same circles (app/export/svg.py).
import { el } from "./dom.js";
import { STATUSES } from "./format.js";

const L = window.L;

export function cellWords(p) {
  const parts = STATUSES.filter((s) => p[s]).map((s) => `${p[s].toLocaleString("en")} ${s}`);
  return `${p.count.toLocaleString("en")} incidents here (${parts.join(", ")})`;
}

// A cell as a marker; onZoom(bounds) zooms in to its incidents.
export function cellMarker(cell, onZoom) {
  const p = cell.properties;
  const size = Math.round(24 + 8 * Math.log10(p.count));
  const marker = L.marker([p.mean_lat, p.mean_lon], {
    icon: L.divIcon({
      html: el("span", {}, p.count >= 10_000 ? `${Math.round(p.count / 1000)}k` : String(p.count)),
      className: "cell-icon",
      iconSize: [size, size],
    }),
    keyboard: true,
    autoPanOnFocus: false, // focus-view.js pans instead
    title: cellWords(p),
  });
  const [west, south, east, north] = p.points_bbox;
  const zoomIn = () => onZoom(L.latLngBounds([south, west], [north, east]));
  marker.on("click", zoomIn);
  marker.on("add", () => {
    const element = marker.getElement();
    element.setAttribute("role", "button");
    element.setAttribute("aria-label", `${cellWords(p)}: zoom in`);
    element.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      zoomIn();
    });
  });
  return marker;
}

// Whether zooming in can split a cell's incidents (bounds: where they lie): not when the map is
// at its deepest zoom, nor when they all lie within one cell (64 px) even there.
export function splits(map, bounds) {
  const deepest = map.getMaxZoom();
  const size = map.project(bounds.getSouthWest(), deepest).subtract(map.project(bounds.getNorthEast(), deepest));
  return map.getZoom() < deepest && (Math.abs(size.x) >= 64 || Math.abs(size.y) >= 64);
}
