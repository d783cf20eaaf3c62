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
// meets no marker placed before it and no obstacle; else it goes to the nearest free place on
// rings around its point (half a marker apart), first on the side away from its crowd, and a
// leader line joins it to its point. The selected marker goes first, then those with the fewest
// neighbours (a lone marker stays put).
// points: [[x, y]] px; sizes: each marker's box side, px; first: the index placed first (or -1);
// obstacles: [[x0, y0, x1, y1]] px; bounds: [x0, y0, x1, y1], where a marker moved aside must
// lie whole (one left on its point stays where it is). -> [[x, y]] where each marker is drawn.
export const GAP = 2;
const RINGS = 40;

// The crowds: groups of markers (indices) that meet on their points, directly or through a chain
// of neighbours (points, sizes as placeMarkers'). Groups of one are left out.
export function crowds(points, sizes) {
  const group = points.map((_, i) => i);
  const root = (i) => (group[i] === i ? i : (group[i] = root(group[i])));
  for (let i = 0; i < points.length; i += 1) {
    for (let j = i + 1; j < points.length; j += 1) {
      const reach = (sizes[i] + sizes[j]) / 2 + GAP;
      if (Math.abs(points[i][0] - points[j][0]) < reach && Math.abs(points[i][1] - points[j][1]) < reach) group[root(j)] = root(i);
    }
  }
  const out = new Map();
  points.forEach((_, i) => out.set(root(i), [...(out.get(root(i)) || []), i]));
  return [...out.values()].filter((g) => g.length > 1);
}

export function placeMarkers(points, sizes, { first = -1, obstacles = [], bounds = null } = {}) {
  const cell = Math.max(1, ...sizes) + GAP;
  const grid = new Map();
  const key = (x, y) => `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
  const near = (x, y, reach) => {
    const out = [];
    const [cx, cy] = [Math.floor(x / cell), Math.floor(y / cell)];
    for (let i = cx - reach; i <= cx + reach; i += 1) for (let j = cy - reach; j <= cy + reach; j += 1) out.push(...(grid.get(`${i},${j}`) || []));
    return out;
  };
  const meets = (x, y, s, [qx, qy, qs]) => Math.abs(x - qx) < (s + qs) / 2 + GAP && Math.abs(y - qy) < (s + qs) / 2 + GAP;
  const all = points.map(([x, y], i) => [x, y, sizes[i]]);
  all.forEach((p, i) => { const k = key(p[0], p[1]); grid.set(k, [...(grid.get(k) || []), i]); });
  const crowd = all.map((p, i) => near(p[0], p[1], 1).filter((j) => j !== i && meets(p[0], p[1], p[2], all[j])).length);
  const centre = all.map(([x, y]) => {
    const around = near(x, y, 3).filter((j) => Math.hypot(all[j][0] - x, all[j][1] - y) < 3 * cell);
    return [around.reduce((sum, j) => sum + all[j][0], 0) / around.length, around.reduce((sum, j) => sum + all[j][1], 0) / around.length];
  });
  const order = all.map((_, i) => i).sort((a, b) => (b === first) - (a === first) || crowd[a] - crowd[b] || a - b);
  grid.clear();
  const placed = points.map(([x, y]) => [x, y]);
  const free = (x, y, s) => !near(x, y, 1).some((j) => meets(x, y, s, placed[j].concat(sizes[j])))
    && !obstacles.some(([x0, y0, x1, y1]) => x - s / 2 - GAP < x1 && x0 < x + s / 2 + GAP && y - s / 2 - GAP < y1 && y0 < y + s / 2 + GAP);
  for (const i of order) {
    const [x, y, s] = all[i];
    const [cx, cy] = centre[i];
    const away = Math.hypot(x - cx, y - cy) < 0.5 ? -Math.PI / 2 : Math.atan2(y - cy, x - cx);
    let at = [x, y];
    // Within the bounds first; where they have no room (a point at or past the map's edge), anywhere.
    search: if (!free(x, y, s)) {
      for (const box of bounds ? [bounds, null] : [null]) {
        for (let k = 1; k <= RINGS; k += 1) {
          const r = (k * cell) / 2;
          const m = Math.max(6, Math.ceil(2 * Math.PI * k));
          for (let t = 0; t < m; t += 1) {
            const a = away + ((t % 2 ? (t + 1) / 2 : -t / 2) * 2 * Math.PI) / m;
            const [px, py] = [x + r * Math.cos(a), y + r * Math.sin(a)];
            const within = !box || (px - s / 2 >= box[0] && py - s / 2 >= box[1] && px + s / 2 <= box[2] && py + s / 2 <= box[3]);
            if (within && free(px, py, s)) {
              at = [px, py];
              break search;
            }
          }
        }
      }
    }
    placed[i] = at;
    const k = key(at[0], at[1]);
    grid.set(k, [...(grid.get(k) || []), i]);
  }
  return placed;
}
