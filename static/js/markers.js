// Incident markers: the shape says the type, the fill says the zone status (not colour alone).
import { svg } from "./dom.js";

const L = window.L;
export const SIZE = 22;

export const TYPE_SHAPES = {
  "Explosions/Remote violence": "circle",
  Battles: "triangle",
  "Strategic developments": "square",
  "Violence against civilians": "diamond",
};

// The same colours and fills as the server's SVG (app/export/svg.py); a contract test holds them equal.
export const STATUS_COLOURS = { inside: "#b2182b", outside: "#2166ac", uncertain: "#6b4c00", contested: "#b35806" };

function outline(shape, attrs) {
  const c = SIZE / 2;
  switch (shape) {
    case "triangle":
      return svg("polygon", { points: `${c},2 ${SIZE - 2},${SIZE - 3} 2,${SIZE - 3}`, ...attrs });
    case "square":
      return svg("rect", { x: 3, y: 3, width: SIZE - 6, height: SIZE - 6, ...attrs });
    case "diamond":
      return svg("polygon", { points: `${c},1 ${SIZE - 1},${c} ${c},${SIZE - 1} 1,${c}`, ...attrs });
    default:
      return svg("circle", { cx: c, cy: c, r: c - 2.5, ...attrs });
  }
}

// inside: solid; outside: hollow; uncertain: hollow and dashed, with a dot in the middle;
// contested (sources on both sides): hollow, split by a bar down the middle.
export function markerSvg(type, status, size = SIZE) {
  const colour = STATUS_COLOURS[status];
  const shape = TYPE_SHAPES[type] || "circle";
  const solid = status === "inside";
  const body = outline(shape, {
    fill: solid ? colour : "#ffffff",
    stroke: solid ? "#ffffff" : colour,
    "stroke-width": solid ? 1.5 : 3,
    "stroke-dasharray": status === "uncertain" ? "3 2" : "none",
  });
  const icon = svg("svg", { width: size, height: size, viewBox: `0 0 ${SIZE} ${SIZE}`, "aria-hidden": "true" }, body);
  if (status === "uncertain") icon.append(svg("circle", { cx: SIZE / 2, cy: SIZE / 2 + 1, r: 3, fill: colour }));
  if (status === "contested") {
    icon.append(svg("line", { x1: SIZE / 2, y1: 4, x2: SIZE / 2, y2: SIZE - 4, stroke: colour, "stroke-width": 3 }));
  }
  return icon;
}

export function markerIcon(feature, offset = [0, 0], selected = false) {
  const p = feature.properties;
  const holder = document.createElement("span");
  holder.append(markerSvg(p.event_type, p.zone_status));
  return L.divIcon({
    html: holder,
    className: `incident-icon${selected ? " selected" : ""}`,
    iconSize: [SIZE, SIZE],
    iconAnchor: [SIZE / 2 - offset[0], SIZE / 2 - offset[1]],
  });
}

// Where each marker is drawn so that none covers another (app/export/placement.py holds the same
// rule; tests/web/test_state_contract.py compares them). A marker stays on its point where it
// meets no marker placed before it, no obstacle and no leader line, and covers no other
// incident's point. Else it goes to the nearest free place on rings around its point (half a
// marker apart; the first one tried long enough to hold its crowd side by side, as a spider),
// first on the side away from its crowd, and a leader line joins it to its point.
// A place is free for a marker moved aside when its box meets no marker placed, no obstacle and
// no leader line, covers no other incident's point, its leader line crosses no marker placed,
// and (given the zone's line) it lies wholly on the same side of that line as its point, its
// leader line too: where it is drawn reads as where it is (an open legend on a phone sent markers
// east of the zone to its west side, their leader lines across it). The selected marker goes
// first, then those with the fewest neighbours (a lone marker stays put). A marker with no free
// place anywhere is "stuck": it goes to the nearest place wholly on its side, its leader line too,
// that meets no marker and no leader line (under a panel or a dot if it must: an open legend over
// the zone pushed a crowd's circle onto the line), else
// to the nearest that meets no marker and no obstacle (or stays on its point if there is none),
// and the map draws its crowd as one numbered circle instead. A marker (or numbered circle) stays
// on its point only where it keeps its margin from the zone's line there too: one nearer is moved
// aside as above, onto its side of the line, with a leader line to its point.
// points: [[x, y]] px; sizes: each marker's box side, px; first: the index placed first (or -1);
// obstacles: [[x0, y0, x1, y1]] px; bounds: [x0, y0, x1, y1], where a marker moved aside must
// lie whole (one left on its point stays where it is; one whose box on its point crosses their
// edge goes anywhere when they have no room); hideOutOfView (the map: bounds are its view, which
// the reader pans): a marker wholly out of them on its point stays there, out of view, not
// drawn, and is in no crowd (pulled to the map's edge with a leader line across it, up to 650 px
// on a phone zoomed in, it said "here" of a place the map does not show; focus-view.js pans a
// marker reached by Tab into view, where it is placed again; a fixed drawing, the server's,
// keeps pulling it in); zone: the zone's line as a ring [[x, y]]
// px (or null); margins: for each marker, how far from that line a marker moved aside keeps
// its centre, px (by default half its diagonal: its box lies wholly on its side). -> { at: [[x, y]] where
// each marker is drawn, stuck: [indices] }.
export const GAP = 2;
const RINGS = 40;

// Whether (x, y) lies inside the ring [[x, y]] (ray casting).
export function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const xi = ring[i][0];
    const yi = ring[i][1];
    const xj = ring[j][0];
    const yj = ring[j][1];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Whether a marker of side s on (x, y) lies wholly out of bounds [x0, y0, x1, y1]: none of it
// in view (one that shows in part is placed as the others, so none covers another there).
export const outOf = (bounds, x, y, s) => x + s / 2 <= bounds[0] || y + s / 2 <= bounds[1]
  || x - s / 2 >= bounds[2] || y - s / 2 >= bounds[3];

// The square of the distance from (x, y) to the ring's line, px².
function ringDistance2(ring, x, y) {
  let best = Infinity;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const ax = ring[j][0];
    const ay = ring[j][1];
    const dx = ring[i][0] - ax;
    const dy = ring[i][1] - ay;
    const length2 = dx * dx + dy * dy;
    const t = length2 > 0 ? Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / length2)) : 0;
    const ex = x - (ax + t * dx);
    const ey = y - (ay + t * dy);
    const d2 = ex * ex + ey * ey;
    if (d2 < best) best = d2;
  }
  return best;
}

// Whether the segment (ax, ay)-(bx, by) crosses the ring's line: an edge's ends on both sides of
// the segment's line and the segment's ends on both sides of the edge's (a point on a line
// counts with the side to its right, so a crossing at a vertex counts once).
export function crossesRing(ring, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [x1, y1] = ring[j];
    const [x2, y2] = ring[i];
    if ((dx * (y1 - ay) - dy * (x1 - ax) > 0) === (dx * (y2 - ay) - dy * (x2 - ax) > 0)) continue;
    const ex = x2 - x1;
    const ey = y2 - y1;
    if ((ex * (ay - y1) - ey * (ax - x1) > 0) !== (ex * (by - y1) - ey * (bx - x1) > 0)) return true;
  }
  return false;
}

// One axis of crossesBox: [t0, t1] narrowed to where the segment's coordinate (p + t d) lies
// strictly within c ± h, or null where it never does.
function axis(t0, t1, p, d, c, h) {
  if (d === 0) return Math.abs(p - c) >= h ? null : [t0, t1];
  const ta = (c - h - p) / d;
  const tb = (c + h - p) / d;
  return [Math.max(t0, Math.min(ta, tb)), Math.min(t1, Math.max(ta, tb))];
}

// Whether the segment (ax, ay)-(bx, by) passes through the inside of the square of centre
// (cx, cy) and half side h (Liang-Barsky; touching its edge does not count).
export function crossesBox(ax, ay, bx, by, cx, cy, h) {
  // Far apart: the segment's box and the square's do not meet (a quick test, the same answer).
  if (Math.max(ax, bx) <= cx - h || Math.min(ax, bx) >= cx + h || Math.max(ay, by) <= cy - h || Math.min(ay, by) >= cy + h) {
    return false;
  }
  const x = axis(0, 1, ax, bx - ax, cx, h);
  if (!x) return false;
  const y = axis(x[0], x[1], ay, by - ay, cy, h);
  return Boolean(y) && y[0] < y[1];
}

// The crowds: groups of markers (indices) that meet on their points, directly or through a chain
// of neighbours on the same side of the zone's line (points, sizes, zone as placement's).
// Groups of one are left out.
export function crowds(points, sizes, zone = null) {
  const side = points.map(([x, y]) => (zone ? inRing(zone, x, y) : false));
  const group = points.map((_, i) => i);
  const root = (i) => (group[i] === i ? i : (group[i] = root(group[i])));
  for (let i = 0; i < points.length; i += 1) {
    for (let j = i + 1; j < points.length; j += 1) {
      const reach = (sizes[i] + sizes[j]) / 2 + GAP;
      if (side[i] === side[j] && Math.abs(points[i][0] - points[j][0]) < reach && Math.abs(points[i][1] - points[j][1]) < reach) {
        group[root(j)] = root(i);
      }
    }
  }
  const out = new Map();
  points.forEach((_, i) => out.set(root(i), [...(out.get(root(i)) || []), i]));
  return [...out.values()].filter((g) => g.length > 1);
}

// A crowd whose markers would move further than this share of the frame's smaller side is stacked.
export const STACK_REACH = 0.3;
// Below this zoom (an overview: the zone and its surroundings) every crowd that spreads may be
// stacked so that the garrison's name reads as its own; from it (a reader zoomed in to see the
// markers) crowds spread as arrange says (app/export/stacks.py OVERVIEW_ZOOM).
export const OVERVIEW_ZOOM = 10;
// How far a numbered circle's ring keeps from the zone's line, px: half the line's 2.5 px stroke
// and a gap (at the circle's own radius from it the ring touched the line: "28" at 375 px).
export const RING_CLEAR = 3.5;
// The side of a numbered circle of n incidents, px (cells.js draws it so).
export const stackSize = (n) => Math.round(24 + 8 * Math.log10(n));

// The markers as the map draws them (app/export/stacks.py holds the same rule): placed as
// placement places them, but a crowd with no room on its side of the zone's line, or that would
// spread further than reach px, is one numbered circle instead, wholly on the same side; with the crowds
// stacked the rest are placed again, and a crowd still without room is stacked too (three rounds
// at most). The selected marker is never stacked. Options as placement's, and reach (px).
// -> { at: [[x, y]] each marker, stacks: [[indices]], stackAt: [[x, y]] each circle's centre }.
export function arrange(points, sizes, { first = -1, obstacles = [], bounds = null, zone = null, reach = Infinity, hideOutOfView = false } = {}) {
  const placed = placement(points, sizes, { first, obstacles, bounds, zone, hideOutOfView });
  let at = placed.at;
  let stackAt = [];
  // A crowd is of the markers in view: those out of it stay there (placement), in no circle.
  const inView = (i) => !hideOutOfView || !bounds || !outOf(bounds, points[i][0], points[i][1], sizes[i]);
  const groups = crowds(points, sizes, zone).map((g) => g.filter((i) => i !== first && inView(i))).filter((g) => g.length > 1);
  const far = (g) => g.length > 2 && g.some((i) => Math.hypot(at[i][0] - points[i][0], at[i][1] - points[i][1]) > reach);
  let stuck = new Set(placed.stuck);
  const stacks = groups.filter((g) => far(g) || g.some((i) => stuck.has(i)));
  const mean = (g, k) => g.reduce((sum, i) => sum + points[i][k], 0) / g.length;
  for (let round = 0; stacks.length && round < 3; round += 1) {
    const inStack = new Set(stacks.flat());
    const alone = points.map((_, i) => i).filter((i) => !inStack.has(i));
    const again = placement([...alone.map((i) => points[i]), ...stacks.map((g) => [mean(g, 0), mean(g, 1)])],
      [...alone.map((i) => sizes[i]), ...stacks.map((g) => stackSize(g.length))],
      { first: alone.indexOf(first), obstacles, bounds, zone, hideOutOfView, margins: [...alone.map((i) => sizes[i] * Math.SQRT1_2), ...stacks.map((g) => stackSize(g.length) / 2 + RING_CLEAR)] });
    at = [...placed.at];
    alone.forEach((i, k) => { at[i] = again.at[k]; });
    stackAt = again.at.slice(alone.length);
    stuck = new Set(again.stuck.filter((k) => k < alone.length).map((k) => alone[k]));
    const more = groups.filter((g) => !stacks.includes(g) && g.some((i) => stuck.has(i)));
    if (!more.length) break;
    stacks.push(...more);
  }
  return { at, stacks, stackAt };
}

export function placement(points, sizes, { first = -1, obstacles = [], bounds = null, zone = null, margins = null, hideOutOfView = false } = {}) {
  const cell = Math.max(1, ...sizes) + GAP;
  // A cell's key: its column and row in one number (rows within ±2^20 of the origin).
  const key = (x, y) => Math.floor(x / cell) * 2097152 + Math.floor(y / cell);
  const grid = new Map();
  const put = (into, i, x, y) => { const k = key(x, y); into.set(k, [...(into.get(k) || []), i]); };
  const near = (from, x, y, reach) => {
    const out = [];
    const [cx, cy] = [Math.floor(x / cell), Math.floor(y / cell)];
    for (let i = cx - reach; i <= cx + reach; i += 1) {
      for (let j = cy - reach; j <= cy + reach; j += 1) {
        const here = from.get(i * 2097152 + j);
        if (here) for (const k of here) out.push(k);
      }
    }
    return out;
  };
  const meets = (x, y, s, [qx, qy, qs]) => Math.abs(x - qx) < (s + qs) / 2 + GAP && Math.abs(y - qy) < (s + qs) / 2 + GAP;
  const all = points.map(([x, y], i) => [x, y, sizes[i]]);
  all.forEach((p, i) => put(grid, i, p[0], p[1]));
  const crowd = all.map((p, i) => near(grid, p[0], p[1], 1).filter((j) => j !== i && meets(p[0], p[1], p[2], all[j])).length);
  const centre = all.map(([x, y]) => {
    const around = near(grid, x, y, 3).filter((j) => Math.hypot(all[j][0] - x, all[j][1] - y) < 3 * cell);
    return [around.reduce((sum, j) => sum + all[j][0], 0) / around.length, around.reduce((sum, j) => sum + all[j][1], 0) / around.length];
  });
  // Whether a box of side s at (x, y) covers the point of a marker other than i.
  const coversPoint = (i, x, y, s) => near(grid, x, y, 1)
    .some((j) => j !== i && Math.abs(all[j][0] - x) < s / 2 + GAP && Math.abs(all[j][1] - y) < s / 2 + GAP);
  const side = all.map(([x, y]) => (zone ? inRing(zone, x, y) : null));
  const margin = sizes.map((s, i) => (margins ? margins[i] : s * Math.SQRT1_2));
  // For a marker inside the zone: the rings beyond this radius lie wholly outside it (past its
  // furthest vertex, and a pixel): no place there can fit, and the search stops (the same answer).
  const furthest = all.map(([x, y], i) => (zone && side[i] ? Math.max(...zone.map(([vx, vy]) => Math.hypot(vx - x, vy - y))) + 1 : Infinity));
  const order = all.map((_, i) => i).sort((a, b) => (b === first) - (a === first) || crowd[a] - crowd[b] || a - b);
  const placedGrid = new Map();
  const placedList = [];
  const leaders = []; // [x0, y0, x1, y1] of the markers placed away from their points
  const placed = points.map(([x, y]) => [x, y]);
  const stuck = [];
  // Meets no marker placed and no obstacle.
  const metMarker = (x, y, s) => near(placedGrid, x, y, 1).some((j) => meets(x, y, s, placed[j].concat(sizes[j])));
  const crossesLeader = (x, y, s) => leaders.some(([x0, y0, x1, y1]) => crossesBox(x0, y0, x1, y1, x, y, s / 2));
  const clear = (x, y, s) => !metMarker(x, y, s)
    && !obstacles.some(([x0, y0, x1, y1]) => x - s / 2 - GAP < x1 && x0 < x + s / 2 + GAP && y - s / 2 - GAP < y1 && y0 < y + s / 2 + GAP);
  const free = (x, y, s) => clear(x, y, s) && !crossesLeader(x, y, s);
  // A place for marker i moved aside: on its point's side of the zone's line, wholly, and its
  // leader line too; its leader line through no marker placed.
  const onSide = (i, px, py) => !zone || (inRing(zone, px, py) === side[i] && ringDistance2(zone, px, py) >= margin[i] * margin[i]
    && !crossesRing(zone, all[i][0], all[i][1], px, py));
  // On its point: at least its margin from the zone's line, so it lies wholly on its side (an
  // outside marker 7 px from the line reached 4 px inside it; a numbered circle's ring 4.9 px).
  const clearOfLine = (i, px, py) => !zone || ringDistance2(zone, px, py) >= margin[i] * margin[i];
  const fits = (i, px, py, s) => !coversPoint(i, px, py, s) && onSide(i, px, py)
    && !placedList.some((j) => crossesBox(all[i][0], all[i][1], px, py, placed[j][0], placed[j][1], sizes[j] / 2));
  const onMap = (x, y, s) => x - s / 2 >= bounds[0] && y - s / 2 >= bounds[1] && x + s / 2 <= bounds[2] && y + s / 2 <= bounds[3];
  for (const i of order) {
    const [x, y, s] = all[i];
    if (hideOutOfView && bounds && outOf(bounds, x, y, s)) { // out of view: stays there, not drawn
      placedList.push(i);
      put(placedGrid, i, x, y);
      continue;
    }
    const [cx, cy] = centre[i];
    const away = Math.hypot(x - cx, y - cy) < 0.5 ? -Math.PI / 2 : Math.atan2(y - cy, x - cx);
    let at = null;
    if (free(x, y, s) && !coversPoint(i, x, y, s) && clearOfLine(i, x, y)) at = [x, y];
    // Within the bounds; for a marker whose box on its point crosses the map's edge, where they have no room, anywhere.
    // A marker stuck (no such place) still goes to the nearest place clear of markers and
    // obstacles, as the server's drawings need; the map draws its crowd as a numbered circle.
    let isStuck = false;
    search: if (!at) {
      // Tiers: free and fitting; then (given the zone) wholly on its side and clear of the markers
      // placed, under an obstacle if it must (a legend over the zone on a phone pushed a crowd's
      // circle onto the line); then clear of markers and obstacles, anywhere.
      for (const tier of zone ? ["strict", "sided", "loose"] : ["strict", "loose"]) {
        const strict = tier === "strict";
        isStuck = !strict;
        for (const box of !bounds ? [null] : onMap(x, y, s) ? [bounds] : [bounds, null]) {
          for (let k = strict ? Math.max(1, Math.ceil((crowd[i] + 1) / Math.PI)) : 1; k <= RINGS; k += 1) {
            const r = (k * cell) / 2;
            if (tier !== "loose" && r > furthest[i]) break;
            const m = Math.max(6, Math.ceil(2 * Math.PI * k));
            for (let t = 0; t < m; t += 1) {
              const a = away + ((t % 2 ? (t + 1) / 2 : -t / 2) * 2 * Math.PI) / m;
              const [px, py] = [x + r * Math.cos(a), y + r * Math.sin(a)];
              const inBounds = Boolean(bounds) && px - s / 2 >= bounds[0] && py - s / 2 >= bounds[1] && px + s / 2 <= bounds[2] && py + s / 2 <= bounds[3];
              // Anywhere, after the bounds: those within them were tried already (the same answer).
              if (box ? !inBounds : inBounds) continue;
              const ok = strict ? free(px, py, s) && fits(i, px, py, s)
                : tier === "sided" ? onSide(i, px, py) && !metMarker(px, py, s) && !crossesLeader(px, py, s)
                  : clear(px, py, s);
              if (ok) {
                at = [px, py];
                break search;
              }
            }
          }
        }
      }
    }
    if (!at || isStuck) stuck.push(i);
    if (at && (at[0] !== x || at[1] !== y)) leaders.push([x, y, at[0], at[1]]);
    placed[i] = at || [x, y];
    placedList.push(i);
    put(placedGrid, i, placed[i][0], placed[i][1]);
  }
  return { at: placed, stuck: stuck.sort((a, b) => a - b) };
}
