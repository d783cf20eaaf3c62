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

function ringsOf(collection) {
  const rings = [];
  for (const feature of collection.features) {
    const g = feature.geometry;
    if (!g) continue;
    const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    for (const polygon of polygons) rings.push(...polygon);
  }
  return rings;
}

// The borders as lines: the countries' outlines less the edges where they were clipped to the
// region's box (at-tanf-map borders), which would read as straight borders across the map.
export function borderLines(collection) {
  const rings = ringsOf(collection);
  const all = rings.flat();
  const [west, east] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [south, north] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  // Within 0.01° (1 km, under the borders' error): simplifying moves clipped edges a little.
  const at = (v, edge) => Math.abs(v - edge) < 0.01;
  const along = (a, b, i, edges) => edges.some((edge) => at(a[i], edge) && at(b[i], edge));
  const onBox = (a, b) => along(a, b, 0, [west, east]) || along(a, b, 1, [south, north]);
  const lines = [];
  for (const ring of rings) {
    let line = [ring[0]];
    for (let i = 1; i < ring.length; i += 1) {
      if (onBox(ring[i - 1], ring[i])) {
        if (line.length > 1) lines.push(line);
        line = [ring[i]];
      } else line.push(ring[i]);
    }
    if (line.length > 1) lines.push(line);
  }
  return { type: "Feature", properties: {}, geometry: { type: "MultiLineString", coordinates: lines } };
}

export function addBorders(map, collection) {
  return L.geoJSON(borderLines(collection), {
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
  const zoneLabel = L.tooltip({ permanent: true, direction: "center", className: "map-label zone-label" })
    .setLatLng([north[1], north[0]])
    .setContent(label(`${zone.properties.radius_km} km de-confliction zone`))
    .addTo(layers);
  // Just outside the zone's line, above it where that is free, else around it (markers crowd
  // its north at a phone's first view).
  const centre = polygon.getBounds().getCenter();
  labels?.addMovable(zoneLabel, () => {
    const c = map.latLngToContainerPoint(centre);
    const r = c.distanceTo(map.latLngToContainerPoint([north[1], north[0]]));
    const h = zoneLabel.getElement()?.getBoundingClientRect() || { width: 0, height: 0 };
    return [4, 28, 52].flatMap((gap) => [0, 45, -45, 90, -90, 135, -135, 180].map((deg) => {
      const a = (deg * Math.PI) / 180;
      const out = r + gap + Math.abs(Math.sin(a)) * h.width / 2 + Math.abs(Math.cos(a)) * h.height / 2;
      return map.containerPointToLatLng(c.add([out * Math.sin(a), -out * Math.cos(a)]));
    }));
  });
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
    const name = el("span", { dir: "auto" }, site.properties.name);
    if (garrison) {
      // The map is about the garrison: its name is always shown, with a leader line if it has
      // to stand away from its dot.
      const tooltip = L.tooltip({ permanent: true, direction: "center", className: "map-label site-label garrison-label", interactive: false })
        .setLatLng([lat, lon]).setContent(name).addTo(layers);
      labels?.addAround(tooltip, L.latLng(lat, lon), 9);
    } else {
      marker.bindTooltip(name, { permanent: true, direction: side, className: "map-label site-label" });
      labels?.add(marker.getTooltip(), [side, ...SIDES.filter((s) => s !== side)], [6, 20], { latlng: L.latLng(lat, lon), radius: 4 });
    }
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
