// The static layers: borders, the zone and its variant band, the sites; and the regions' styles.
import { el } from "./dom.js";
import { STATUS_COLOURS } from "./markers.js";

const L = window.L;

function label(text) {
  return el("span", {}, text);
}

function northmost(ring) {
  return ring.reduce((best, p) => (p[1] > best[1] ? p : best));
}

function southmost(ring) {
  return ring.reduce((best, p) => (p[1] < best[1] ? p : best));
}

export function addBorders(map, collection) {
  return L.geoJSON(collection, {
    interactive: false,
    style: { color: "#555", weight: 1.2, dashArray: "6 3", fill: false },
  }).addTo(map);
}

export function addZone(map, zone, band, labels) {
  const layers = L.layerGroup().addTo(map);
  if (band) {
    L.geoJSON(band, {
      interactive: false,
      style: { color: "#7b3294", weight: 0.5, fillColor: "#7b3294", fillOpacity: 0.12 },
    }).addTo(layers);
    const south = southmost(band.geometry.coordinates[0]);
    const bandLabel = L.tooltip({ permanent: true, direction: "bottom", className: "map-label band-label" })
      .setLatLng([south[1], south[0]])
      .setContent(label("34–35 mi radii reported by some sources"))
      .addTo(layers);
    labels?.add(bandLabel, ["bottom", "top"]);
  }
  const polygon = L.geoJSON(zone, {
    interactive: false,
    style: { color: "#7b3294", weight: 2.5, fill: false },
  }).addTo(layers);
  const north = northmost(zone.geometry.coordinates[0]);
  const zoneLabel = L.tooltip({ permanent: true, direction: "top", className: "map-label zone-label" })
    .setLatLng([north[1], north[0]])
    .setContent(label(`${zone.properties.radius_km} km de-confliction zone`))
    .addTo(layers);
  labels?.add(zoneLabel, ["top", "bottom"]);
  return polygon.getBounds();
}

// Where each site's name goes first; when a marker or another name is there, the other sides
// are tried in turn, and a name with no free side is hidden (labels.js).
const LABEL_SIDE = { garrison: "left", "al-tanf-crossing": "bottom", "rukban-camp": "left", "al-waleed-crossing": "right" };
const SIDES = ["left", "right", "top", "bottom"];

export function addSites(map, collection, labels) {
  const layers = L.layerGroup().addTo(map);
  // The garrison first: its name matters most.
  const sites = [...collection.features].sort((a, b) => (b.properties.kind === "garrison") - (a.properties.kind === "garrison"));
  for (const site of sites) {
    const [lon, lat] = site.geometry.coordinates;
    const garrison = site.properties.kind === "garrison";
    const marker = L.circleMarker([lat, lon], {
      radius: garrison ? 7 : 4,
      color: "#111",
      weight: 2,
      fillColor: garrison ? "#111" : "#fff",
      fillOpacity: 1,
      className: "site-point",
    }).addTo(layers);
    const side = LABEL_SIDE[site.id] || "right";
    marker.bindTooltip(el("span", { dir: "auto" }, site.properties.name), {
      permanent: true,
      direction: side,
      className: `map-label site-label${garrison ? " garrison-label" : ""}`,
    });
    labels?.add(marker.getTooltip(), [side, ...SIDES.filter((s) => s !== side)], garrison ? [8, 24, 40, 56] : [6, 20]);
    const precision = `Position known to about ${site.properties.precision_m} m`;
    const sources = site.properties.sources.map((s) => s.outlet).join("; ");
    marker.bindPopup(el("div", {}, el("strong", { dir: "auto" }, site.properties.name), el("br"), precision,
      el("br"), `Source: ${sources}`));
  }
  return layers;
}

// Claim regions. "selected": the selected incident's regions: each source's region outlined
// (dashed where it straddles the zone's edge, filled where it does not) and the region all its
// sources share (role "common") filled darker: the place the answer rests on. "hover": the
// sources' outlines for the incident under the pointer or the keyboard. "footprint": every other
// incident, a faint grey wash with no outline, so the first view is calm.
export function regionStyle(feature, mode) {
  const status = feature.properties.zone_status;
  const colour = STATUS_COLOURS[status] || "#444";
  const uncertain = status === "uncertain";
  const common = feature.properties.role === "common";
  const selected = mode === "selected";
  if (common) {
    return { stroke: selected, color: colour, weight: 2, opacity: 1, fill: selected, fillColor: colour, fillOpacity: 0.35 };
  }
  if (mode === "footprint") {
    return { stroke: false, fill: true, fillColor: "#6b6b6b", fillOpacity: 0.015 };
  }
  return {
    stroke: true,
    color: colour,
    weight: selected ? 2.5 : 2,
    opacity: 0.95,
    dashArray: uncertain ? "5 4" : null,
    fill: selected && !uncertain,
    fillColor: colour,
    fillOpacity: 0.2,
  };
}
