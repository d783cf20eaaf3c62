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

export function addZone(map, zone, band) {
  const layers = L.layerGroup().addTo(map);
  if (band) {
    L.geoJSON(band, {
      interactive: false,
      style: { color: "#7b3294", weight: 0.5, fillColor: "#7b3294", fillOpacity: 0.12 },
    }).addTo(layers);
    const south = southmost(band.geometry.coordinates[0]);
    L.tooltip({ permanent: true, direction: "bottom", className: "map-label band-label" })
      .setLatLng([south[1], south[0]])
      .setContent(label("34–35 mi radii reported by some sources"))
      .addTo(layers);
  }
  const polygon = L.geoJSON(zone, {
    interactive: false,
    style: { color: "#7b3294", weight: 2.5, fill: false },
  }).addTo(layers);
  const north = northmost(zone.geometry.coordinates[0]);
  L.tooltip({ permanent: true, direction: "top", className: "map-label zone-label" })
    .setLatLng([north[1], north[0]])
    .setContent(label(`${zone.properties.radius_km} km de-confliction zone`))
    .addTo(layers);
  return polygon.getBounds();
}

// Where each site's name goes, so that neighbouring names do not overlap.
const LABEL_SIDE = { garrison: "left", "al-tanf-crossing": "bottom", "rukban-camp": "left", "al-waleed-crossing": "right" };

export function addSites(map, collection) {
  const layers = L.layerGroup().addTo(map);
  for (const site of collection.features) {
    const [lon, lat] = site.geometry.coordinates;
    const garrison = site.properties.kind === "garrison";
    const marker = L.circleMarker([lat, lon], {
      radius: garrison ? 7 : 4,
      color: "#111",
      weight: 2,
      fillColor: garrison ? "#111" : "#fff",
      fillOpacity: 1,
    }).addTo(layers);
    const side = LABEL_SIDE[site.id] || "right";
    const offsets = { left: [-8, 0], right: [6, 0], bottom: [0, 6], top: [0, -6] };
    marker.bindTooltip(label(site.properties.name), {
      permanent: true,
      direction: side,
      className: `map-label site-label${garrison ? " garrison-label" : ""}`,
      offset: offsets[side],
    });
    const precision = `Position known to about ${site.properties.precision_m} m`;
    const sources = site.properties.sources.map((s) => s.outlet).join("; ");
    marker.bindPopup(el("div", {}, el("strong", {}, site.properties.name), el("br"), precision,
      el("br"), `Source: ${sources}`));
  }
  return layers;
}

// Claim regions: each source's region is an outline (dashed where it straddles the edge). The
// region all of an incident's sources share (role "common") is drawn filled, for the selected
// incident only: the place the answer rests on.
export function regionStyle(feature, selected) {
  const status = feature.properties.zone_status;
  const colour = STATUS_COLOURS[status] || "#444";
  const uncertain = status === "uncertain";
  if (feature.properties.role === "common") {
    return { color: colour, weight: selected ? 2 : 0, opacity: selected ? 1 : 0, fill: selected, fillColor: colour,
      fillOpacity: selected ? 0.35 : 0 };
  }
  return {
    color: colour,
    weight: selected ? 2.5 : 1,
    opacity: selected ? 0.95 : 0.35,
    dashArray: uncertain ? "5 4" : null,
    fill: selected && !uncertain,
    fillColor: colour,
    fillOpacity: 0.2,
  };
}
