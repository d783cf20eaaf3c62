// Map labels that give way: each label has a few candidate places, tried in order; a label goes
// to the first place where it covers no marker, no other label and no control, and is hidden
// (not drawn over something) when there is none. Country names come from the bundled borders.
// A place's name whose dot is out of the map's view is not drawn (as a marker out of view,
// markers.js outOf): pulled to the map's edge, with a leader line from outside, it named a place
// the map did not show.
import { el } from "./dom.js";
import { crossesBox, outOf } from "./markers.js";

const L = window.L;
const MARGIN = 2; // px of air kept around markers and labels

const UNIT = { left: [-1, 0], right: [1, 0], bottom: [0, 1], top: [0, -1], center: [0, 0] };
// addAround: the eight directions in order (sides, then corners) and the gaps tried, px.
const AROUND = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [-1, -1], [1, 1], [-1, 1]];
const AROUND_PX = [4, 12, 22, 34, 48, 64, 82, 102, 124, 148, 176, 206];
const OTHER_DOT_PX = 24; // the garrison's name keeps this far from another place's dot
// The garrison's name reads as its own (the rule of the server's drawings, app/export/svg_names.py):
// beside its dot (at most BESIDE_PX from it, no leader line) only where the dot is nearer to it
// than any marker; further out, with a leader line, only as far from every marker as CLEAR_PX
// asks (tried in turn: 12, then 8, then 3 px; null: anywhere free, so that it is always named),
// its leader line through no marker. It sat beside the contested strike's marker and read as its name.
const BESIDE_PX = 6;
const CLEAR_PX = [12, 8, 3, null];
const FAIR_CLEAR_PX = 8; // at least this far: it reads as the garrison's (layout's readsAsItsOwn)
const LONG_LEADER_PX = 90; // a leader line longer than this, across the map, reads badly (svg_names.py)

// The distance between two boxes (each with its MARGIN), px.
function apart(a, b) {
  return Math.hypot(Math.max(0, b.x0 - a.x1, a.x0 - b.x1), Math.max(0, b.y0 - a.y1, a.y0 - b.y1)) + 2 * MARGIN;
}

function boxOf(element) {
  const r = element.getBoundingClientRect();
  return { x0: r.left - MARGIN, y0: r.top - MARGIN, x1: r.right + MARGIN, y1: r.bottom + MARGIN };
}

const meets = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

// Ray casting in lon/lat over a GeoJSON Polygon or MultiPolygon (holes count as outside).
// A geometry's bounding box (LatLngBounds), worked out once.
const BOUNDS = new WeakMap();
function boundsOf(geometry) {
  if (!BOUNDS.has(geometry)) {
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    BOUNDS.set(geometry, L.latLngBounds(polygons.flatMap((rings) => rings[0].map(([lon, lat]) => [lat, lon]))));
  }
  return BOUNDS.get(geometry);
}

export function inGeometry(geometry, lon, lat) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polygons.some((rings) => inRing(rings[0], lon, lat) && rings.slice(1).every((hole) => !inRing(hole, lon, lat)));
}

function inRing(ring, lon, lat) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export class Labels {
  constructor(map) {
    this.map = map;
    this.entries = []; // { tooltip, candidates(): [{latlng?, direction}] } in order of importance
  }

  // A permanent label at a fixed point whose side may change: sides in order of preference,
  // close to the point first, then a little further out. dot: a place's { latlng, radius (px) },
  // whose name is not drawn while the dot is wholly out of view (null: a label always placed).
  add(tooltip, sides, distances = [8], dot = null) {
    const places = distances.flatMap((distance) => sides.map((direction) => ({ direction, distance })));
    this.entries.push({ tooltip, candidates: () => places, dot });
  }

  // A name that must be shown (the garrison's): beside its point if there is room, else further
  // out in one of eight directions, as near as it finds room, with a leader line to the point;
  // not while its dot is wholly out of view. radius: the point's own radius, px.
  addAround(tooltip, latlng, radius) {
    const leader = L.polyline([latlng, latlng], { pane: "leaders", interactive: false, color: "#111", weight: 1.2 });
    tooltip.once("add", () => leader.addTo(this.map));
    const places = () => {
      const box = tooltip.getElement().getBoundingClientRect();
      const at = this.map.latLngToContainerPoint(latlng);
      const corner = this.map.getContainer().getBoundingClientRect();
      // Not beside another place's dot, where the name would seem to be that place's.
      const dots = [...this.map.getPane("overlayPane").querySelectorAll("path.site-point")].map((e) => e.getBoundingClientRect())
        .map((r) => [r.left - corner.left, r.top - corner.top, r.right - corner.left, r.bottom - corner.top])
        .filter(([x0, y0, x1, y1]) => !(x0 <= at.x && at.x <= x1 && y0 <= at.y && at.y <= y1));
      const clear = (c) => !dots.some(([x0, y0, x1, y1]) => x0 - OTHER_DOT_PX < c.x + box.width / 2 && c.x - box.width / 2 < x1 + OTHER_DOT_PX
        && y0 - OTHER_DOT_PX < c.y + box.height / 2 && c.y - box.height / 2 < y1 + OTHER_DOT_PX);
      const around = AROUND_PX.flatMap((gap) => AROUND.map(([ux, uy]) => ({
        centre: at.add([ux * (radius + gap + box.width / 2), uy * (radius + gap + box.height / 2)]), leader: gap > BESIDE_PX,
      }))).filter(({ centre }) => clear(centre));
      return CLEAR_PX.flatMap((away) => around.map(({ centre, leader }) => ({
        latlng: this.map.containerPointToLatLng(centre), direction: "center", leader, away,
      })));
    };
    // Whether the name at box (client px, with its margin) reads as the garrison's among the
    // markers' boxes: see BESIDE_PX and CLEAR_PX.
    // Anywhere free (away null): beside its dot, or with a leader line that still crosses no
    // marker and no numbered circle (it ran through the "27" circle in a 320 px embed).
    const reads = (box, place, markers) => {
      if (place.away === null && !place.leader) return true;
      const corner = this.map.getContainer().getBoundingClientRect();
      const at = this.map.latLngToContainerPoint(latlng).add([corner.left, corner.top]);
      const near = Math.min(Infinity, ...markers.map((m) => apart(box, m)));
      if (!place.leader) return near > apart(box, { x0: at.x, y0: at.y, x1: at.x, y1: at.y }) - MARGIN - radius + 3;
      if (place.away !== null && near < place.away) return false;
      const end = this.nearestOn(box, latlng);
      const to = this.map.latLngToContainerPoint(end).add([corner.left, corner.top]);
      const length = Math.hypot(to.x - at.x, to.y - at.y) || 1;
      place.length = length; // the leader line's length, for readsAsItsOwn
      const [sx, sy] = [at.x + ((to.x - at.x) * (radius + 1)) / length, at.y + ((to.y - at.y) * (radius + 1)) / length];
      return !markers.some((m) => crossesBox(sx, sy, to.x, to.y, (m.x0 + m.x1) / 2, (m.y0 + m.y1) / 2, (m.x1 - m.x0) / 2 - MARGIN - 1));
    };
    this.entries.unshift({ tooltip, candidates: places, leader, point: latlng, reads, dot: { latlng, radius } }); // placed first
  }

  // A label that may move to any of the points candidates() gives (latlngs, best first).
  addMovable(tooltip, places) {
    // Lazily: a layout stops at the first place that is free (countryPlaces' fallbacks cost more).
    this.entries.push({ tooltip, *candidates() { for (const latlng of places()) yield { latlng, direction: "center" }; } });
  }

  // Country names from the borders: each is placed well inside its country, as far from the
  // zone's busy centre as the view allows, never across the zone's line (zone: its GeoJSON
  // geometry; a name over the line read as part of the zone).
  addCountries(borders, centre, zone = null) {
    const layer = L.layerGroup().addTo(this.map);
    for (const feature of borders.features) {
      const name = feature.properties?.name;
      if (!name) continue;
      const tooltip = L.tooltip({ permanent: true, direction: "center", className: "map-label country-label", interactive: false })
        .setContent(el("span", {}, name))
        .setLatLng(centre);
      layer.addLayer(tooltip);
      this.addMovable(tooltip, () => this.countryPlaces(feature.geometry, centre, zone, name.length * 6 + 6));
    }
    return layer;
  }

  // halfWidth: about half the name's width, px. Places well inside the country first (a grid a
  // step apart, the point and its neighbours half a step away inside it), the farthest from the
  // zone's centre first; then, lazily where none of those is free, the places of a finer grid where
  // the name's whole box lies inside the country and the map: in an embed's short map the slice
  // of Jordan in view had no coarse place free (the attribution, the garrison's name), and the
  // embed named Syria and Iraq where the full map names Jordan too.
  *countryPlaces(geometry, centre, zone = null, halfWidth = 0) {
    yield* this.coarsePlaces(geometry, centre, zone, halfWidth);
    // Only over the part of the view the country's box covers (none: a country out of view).
    const size = this.map.getSize();
    const box = boundsOf(geometry);
    const [nw, se] = [box.getNorthWest(), box.getSouthEast()].map((ll) => this.map.latLngToContainerPoint(ll));
    const [x0, y0, x1, y1] = [Math.max(0, nw.x), Math.max(0, nw.y), Math.min(size.x, se.x), Math.min(size.y, se.y)];
    if (x0 >= x1 || y0 >= y1) return;
    const step = 8;
    const middle = this.map.latLngToContainerPoint(centre);
    const within = (x, y) => {
      const ll = this.map.containerPointToLatLng([x, y]);
      return inGeometry(geometry, ll.lng, ll.lat);
    };
    const [w, h] = [halfWidth, 10]; // the name's box (halfWidth is generous) and a margin, px from its middle
    const corners = [-w, 0, w].flatMap((dx) => [-h, 0, h].map((dy) => [dx, dy]));
    const places = [];
    for (let y = Math.max(h, y0); y <= Math.min(size.y - h, y1); y += step) {
      for (let x = Math.max(w, x0); x <= Math.min(size.x - w, x1); x += step) {
        if (within(x, y) && corners.every(([dx, dy]) => within(x + dx, y + dy)) && this.oneSide(zone, x, y, halfWidth)) {
          places.push({ x, y, d: Math.hypot(x - middle.x, y - middle.y) });
        }
      }
    }
    // Every one, farthest first: the layout takes the first free one (the farthest few may all lie
    // under the attribution or another name).
    for (const p of places.sort((a, b) => b.d - a.d)) yield this.map.containerPointToLatLng([p.x, p.y]);
  }

  // Whether a name halfWidth px wide each way of (x, y) lies on one side of the zone's line: its
  // middle, its ends and its corners.
  oneSide(zone, x, y, halfWidth) {
    if (!zone) return true;
    const around = [-halfWidth, 0, halfWidth].flatMap((dx) => [-9, 0, 9].map((dy) => [dx, dy]));
    return new Set(around.map(([dx, dy]) => {
      const ll = this.map.containerPointToLatLng([x + dx, y + dy]);
      return inGeometry(zone, ll.lng, ll.lat);
    })).size === 1;
  }

  coarsePlaces(geometry, centre, zone = null, halfWidth = 0) {
    const size = this.map.getSize();
    const step = Math.max(40, Math.min(size.x, size.y) / 8);
    const within = (shape, x, y) => {
      const ll = this.map.containerPointToLatLng([x, y]);
      return inGeometry(shape, ll.lng, ll.lat);
    };
    const inside = (x, y) => within(geometry, x, y);
    const middle = this.map.latLngToContainerPoint(centre);
    const places = [];
    for (let y = step; y < size.y - step / 2; y += step) {
      for (let x = step; x < size.x - step / 2; x += step) {
        // Well inside: the point and its four neighbours half a step away.
        const h = step / 2;
        if ([[0, 0], [h, 0], [-h, 0], [0, h], [0, -h]].every(([dx, dy]) => inside(x + dx, y + dy)) && this.oneSide(zone, x, y, halfWidth)) {
          places.push({ x, y, d: Math.hypot(x - middle.x, y - middle.y) });
        }
      }
    }
    return places.sort((a, b) => b.d - a.d).slice(0, 12).map((p) => this.map.containerPointToLatLng([p.x, p.y]));
  }

  // The point of a label's box (client px, with its margin) nearest to latlng, as a LatLng.
  nearestOn(box, latlng) {
    const corner = this.map.getContainer().getBoundingClientRect();
    const p = this.map.latLngToContainerPoint(latlng);
    const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
    const x = clamp(p.x, box.x0 + MARGIN - corner.left, box.x1 - MARGIN - corner.left);
    const y = clamp(p.y, box.y0 + MARGIN - corner.top, box.y1 - MARGIN - corner.top);
    return this.map.containerPointToLatLng([x, y]);
  }

  // Whether a place's dot ({ latlng, radius } px) lies wholly out of the map's view.
  outOfView(dot) {
    const size = this.map.getSize();
    const at = this.map.latLngToContainerPoint(dot.latlng);
    return outOf([0, 0, size.x, size.y], at.x, at.y, 2 * dot.radius);
  }

  // Places every label; markers and controls are obstacles. A place's name whose dot is out of
  // view is not drawn (nor its leader line) and is not counted hidden. Returns the labels hidden
  // for want of room; after it,
  // readsAsItsOwn says whether each name that must be shown (the garrison's), in view, was placed where it
  // reads as its own (beside its dot, or FAIR_CLEAR_PX from every marker with a leader line of at
  // most LONG_LEADER_PX).
  // A label's box is measured once per direction and offset (the browser lays the page out for
  // each measure) and moved with its point for the other candidates: a zoom or a pan is followed
  // at once, not after a second of layouts.
  layout(obstacles) {
    const taken = obstacles.map(boxOf);
    // The incidents' markers and numbered circles among them: a name must read as its place's.
    const markers = obstacles.filter((e) => e.classList?.contains("incident-icon") || e.classList?.contains("cell-icon")).map(boxOf);
    const mapBox = boxOf(this.map.getContainer());
    const hidden = [];
    this.readsAsItsOwn = true;
    const put = (tooltip, place) => {
      if (place.latlng) tooltip.setLatLng(place.latlng);
      tooltip.options.direction = place.direction;
      const [ux, uy] = UNIT[place.direction];
      tooltip.options.offset = [ux * (place.distance || 0), uy * (place.distance || 0)];
      tooltip.update();
    };
    for (const { tooltip, candidates, leader, point, reads, dot } of this.entries) {
      const element = tooltip.getElement();
      if (!element || !this.map.hasLayer(tooltip)) continue;
      let placed = null;
      leader?.setLatLngs([point, point]);
      if (dot && this.outOfView(dot)) {
        element.style.visibility = "hidden";
        element.setAttribute("aria-hidden", "true");
        continue;
      }
      element.style.visibility = "";
      const measured = new Map(); // "direction|distance" -> { box, at: the point it was measured at }
      for (const place of candidates()) {
        const key = `${place.direction}|${place.distance || 0}`;
        const at = this.map.latLngToContainerPoint(place.latlng || tooltip.getLatLng());
        if (!measured.has(key)) {
          put(tooltip, place);
          measured.set(key, { box: boxOf(element), at });
        }
        const base = measured.get(key);
        const [dx, dy] = [at.x - base.at.x, at.y - base.at.y];
        const box = { x0: base.box.x0 + dx, y0: base.box.y0 + dy, x1: base.box.x1 + dx, y1: base.box.y1 + dy };
        const within = box.x0 >= mapBox.x0 && box.x1 <= mapBox.x1 && box.y0 >= mapBox.y0 && box.y1 <= mapBox.y1;
        if (within && !taken.some((other) => meets(box, other)) && (!reads || reads(box, place, markers))) {
          taken.push(box);
          placed = place;
          put(tooltip, place);
          if (place.leader) {
            const end = this.nearestOn(box, point);
            leader.setLatLngs([point, end]);
            // The labels placed after it keep off its leader line: small boxes along it.
            const corner = this.map.getContainer().getBoundingClientRect();
            const [a, b] = [point, end].map((ll) => this.map.latLngToContainerPoint(ll).add([corner.left, corner.top]));
            const steps = Math.ceil(a.distanceTo(b) / 6);
            for (let k = 1; k < steps; k += 1) {
              const [x, y] = [a.x + ((b.x - a.x) * k) / steps, a.y + ((b.y - a.y) * k) / steps];
              taken.push({ x0: x - 1, y0: y - 1, x1: x + 1, y1: y + 1 });
            }
          }
          break;
        }
      }
      const clearly = placed && placed.away !== null && placed.away >= FAIR_CLEAR_PX
        && (!placed.leader || placed.length <= LONG_LEADER_PX);
      if (reads && !clearly) this.readsAsItsOwn = false;
      element.style.visibility = placed ? "" : "hidden";
      element.setAttribute("aria-hidden", placed ? "false" : "true");
      if (!placed) hidden.push(element.textContent);
    }
    return hidden;
  }
}
