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

// Markers closer than this many pixels, directly or through a chain of neighbours, are fanned
// out together on a ring around their middle, far enough apart that each stays clickable.
const NEAR_PX = SIZE;

export function spreadOffsets(map, markers) {
  const points = markers.map((m) => map.latLngToContainerPoint(m.getLatLng()));
  const offsets = markers.map(() => [0, 0]);
  const group = markers.map((_, i) => i);
  const root = (i) => (group[i] === i ? i : (group[i] = root(group[i])));
  for (let i = 0; i < points.length; i += 1) {
    for (let j = i + 1; j < points.length; j += 1) {
      if (points[i].distanceTo(points[j]) < NEAR_PX) group[root(j)] = root(i);
    }
  }
  const groups = new Map();
  points.forEach((_, i) => groups.set(root(i), [...(groups.get(root(i)) || []), i]));
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const cx = members.reduce((sum, k) => sum + points[k].x, 0) / members.length;
    const cy = members.reduce((sum, k) => sum + points[k].y, 0) / members.length;
    const radius = Math.max(NEAR_PX, (members.length * (SIZE + 3)) / (2 * Math.PI));
    // Around the ring in the order of their bearing from the middle, so each moves the least.
    members.sort((a, b) => Math.atan2(points[a].y - cy, points[a].x - cx) - Math.atan2(points[b].y - cy, points[b].x - cx));
    const start = Math.atan2(points[members[0]].y - cy, points[members[0]].x - cx);
    members.forEach((k, n) => {
      const angle = start + (2 * Math.PI * n) / members.length;
      offsets[k] = [Math.round(cx + radius * Math.cos(angle) - points[k].x), Math.round(cy + radius * Math.sin(angle) - points[k].y)];
    });
  }
  return offsets;
}
