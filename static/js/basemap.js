// The Leaflet map and what lies under and around the incidents: the tiles (with a notice if they
// fail), the attribution, and the "Show all" button.
import { el } from "./dom.js";
import { ZOOM_SNAP } from "./state.js";

const L = window.L;

// The map in #map; tileUrl/tileAttribution: the server's tile layer ("" for none).
export function createMap({ embed, reducedMotion, tileUrl, tileAttribution }) {
  const map = L.map("map", {
    zoomSnap: ZOOM_SNAP,
    zoomDelta: 0.5,
    // An embed must not hijack the article's scrolling: no wheel zoom, and on touch screens one
    // finger scrolls the page until the reader taps the map.
    scrollWheelZoom: !embed,
    dragging: !(embed && L.Browser.mobile),
    zoomAnimation: !reducedMotion,
    fadeAnimation: !reducedMotion,
    markerZoomAnimation: !reducedMotion,
  });
  // Leader lines (a marker moved aside, a name away from its point): above the regions, under
  // the markers and names.
  map.createPane("leaders").style.zIndex = 550;
  map.attributionControl.addAttribution("Borders: Natural Earth (approximate)");
  if (tileUrl) addTiles(map, tileUrl, tileAttribution);
  if (embed && L.Browser.mobile) map.once("click", () => map.dragging.enable());
  return map;
}

function addTiles(map, tileUrl, tileAttribution) {
  const notice = L.control({ position: "bottomright" });
  // The notice covers a corner of the map on a phone: the reader can close it once read.
  notice.onAdd = () => {
    const box = el("div", { class: "notice", role: "status" },
      "Background map tiles could not be loaded; borders, the zone and the incidents are still shown. ",
      el("button", { type: "button", class: "notice-close", "aria-label": "Close this notice",
                     onclick: () => { notice.remove(); map.fire("controlschange"); } }, "×"));
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  let shown = false;
  L.tileLayer(tileUrl, { attribution: tileAttribution, maxZoom: 18 })
    .on("tileerror", () => { if (!shown) { shown = true; notice.addTo(map); map.fire("controlschange"); } })
    .addTo(map);
}

// "Show all": back to every incident the filters show, under the zoom buttons.
export function addShowAll(map, onClick) {
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    const button = el("button", { type: "button", class: "show-all", title: "Show every incident on the map" }, "Show all");
    button.addEventListener("click", onClick);
    L.DomEvent.disableClickPropagation(button);
    return el("div", { class: "leaflet-bar show-all-bar" }, button);
  };
  control.addTo(map);
}
