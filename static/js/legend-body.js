// The legend's content, in plain words: every symbol and fill on the map, including what appears
// when an incident is selected and the numbered circles of many incidents. Marker shapes and
// fills come from markers.js, the region styles from layers.js, so the legend shows exactly what
// the map draws. Loaded when the legend first
// opens (legend.js), so a collapsed legend costs its button only.
import { el, svg } from "./dom.js";
import { regionStyle } from "./layers.js";
import { markerSvg, TYPE_SHAPES } from "./markers.js";
import { TYPE_WORDS } from "./format.js";

// What each ACLED event type means to a reader (format.js holds the words).
export { TYPE_WORDS } from "./format.js";

// The fills, in the order the legend lists them (markers.js draws them).
export const STATUS_WORDS = [
  ["inside", "inside the zone (solid)"],
  ["uncertain", "may be inside or outside: the place reported crosses the zone's edge (dashed, with a dot)"],
  ["contested", "contested: the sources disagree, one inside, another outside (split)"],
  ["outside", "outside the zone (hollow)"],
];

// The same in fewer words, for the short key (app/export/legend.py's STATUS_SHORT).
export const STATUS_SHORT = {
  inside: "inside the zone",
  uncertain: "may be inside or outside",
  contested: "sources disagree",
  outside: "outside the zone",
};
const STATUSES_SHORT = STATUS_WORDS.map(([status]) => [status, STATUS_SHORT[status]]);

function swatch(attrs, shape = "rect") {
  const body = shape === "line"
    ? svg("path", { d: "M1,7 H21", ...attrs })
    : shape === "dot"
      ? svg("circle", { cx: 11, cy: 7, r: attrs.r || 4, ...attrs })
      : svg("rect", { x: 1, y: 1, width: 20, height: 12, ...attrs });
  return svg("svg", { width: 22, height: 14, "aria-hidden": "true" }, body);
}

// A region swatch drawn with the map's own style for that mode and status.
function regionSwatch(status, mode) {
  const common = mode === "common";
  const s = regionStyle({ properties: { zone_status: status, role: common ? "common" : "claim" } }, common ? "selected" : mode);
  return swatch({
    fill: s.fill ? s.fillColor : "none",
    // A footprint shows where several overlap; a single one would be too faint to see here.
    "fill-opacity": mode === "footprint" ? 0.15 : s.fillOpacity,
    stroke: s.stroke === false ? "none" : s.color,
    "stroke-width": s.stroke === false ? 0 : Math.min(2, s.weight),
    "stroke-dasharray": s.dashArray || "none",
  });
}

const item = (symbol, ...words) => el("li", {}, symbol, el("span", {}, ...words));

// A numbered circle as cells.js draws it (counts per grid cell, at scale).
function cellSwatch() {
  return svg("svg", { width: 22, height: 22, "aria-hidden": "true" },
    svg("circle", { cx: 11, cy: 11, r: 9.5, fill: "#fff", stroke: "#333", "stroke-width": 2 }),
    svg("text", { x: 11, y: 15, "text-anchor": "middle", "font-size": 11, "font-weight": 600, fill: "#111" }, "12"));
}

// The selected marker as the map draws it: larger, with a dark halo.
function selectedSwatch() {
  const icon = markerSvg("Explosions/Remote violence", "inside", 20);
  icon.setAttribute("class", "legend-selected");
  return icon;
}

// types: the event types on the map; footprint: whether the map draws the other incidents'
// faint footprint (not in the embed, nor at scale).
// A short key first (shape and fill, which every marker has), and the rest under "More" (what
// a selection shows, the regions, the numbered circles, the zone and the places), so the open
// legend stays small; where it must scroll it is a named region that takes the focus.
export function legendBody(types, { footprint = true } = {}) {
  return el("div", { class: "legend-body", id: "legend-body" },
    el("p", { class: "legend-head" }, "Each marker is an incident. Its shape says what happened:"),
    el("ul", {}, types.filter((t) => TYPE_SHAPES[t]).map((t) => item(markerSvg(t, "inside", 16), TYPE_WORDS[t] || t))),
    el("p", { class: "legend-head" }, "Its fill says whether it is inside the zone:"),
    el("ul", { class: "legend-fills" }, STATUSES_SHORT.map(([status, words]) => item(markerSvg("Explosions/Remote violence", status, 16), words))),
    el("details", { class: "legend-more" },
      el("summary", {}, "More: selection, regions, places"),
      el("p", { class: "legend-head" }, "The fills in full:"),
      el("ul", {}, STATUS_WORDS.map(([status, words]) => item(markerSvg("Explosions/Remote violence", status, 16), words))),
      el("p", { class: "legend-head" }, "Select an incident (click it, or Enter) to see where each source puts it:"),
      el("ul", {},
        item(selectedSwatch(), "its marker, larger; its card opens in the list beside the map (on a phone, over the map)"),
        item(regionSwatch("inside", "selected"), "shaded: the area a source describes, inside the zone"),
        item(regionSwatch("inside", "common"), "darker: where all its sources can be right at once"),
        item(regionSwatch("outside", "selected"), "shaded blue: such an area outside the zone"),
        item(regionSwatch("uncertain", "selected"), "dashed outline: an area that crosses the zone's edge"),
        item(regionSwatch("inside", "hover"), "outline only: the areas of the incident under the pointer"),
        footprint ? item(regionSwatch("inside", "footprint"), "faint grey: the areas of all the other incidents") : null),
      el("p", { class: "legend-head" }, "Where too many incidents are in view to draw one by one:"),
      el("ul", {}, item(cellSwatch(), "a numbered circle: that many incidents there, on the same side of the zone's line; "
        + "its ring is coloured by their fills (red: inside); click it to zoom in")),
      el("p", { class: "legend-head" }, "The zone and the places:"),
      el("ul", {},
        item(swatch({ fill: "none", stroke: "#7b3294", "stroke-width": 2.5 }), "the 55 km de-confliction zone, drawn exactly"),
        item(swatch({ fill: "#7b3294", "fill-opacity": 0.2, stroke: "none" }), "the 34–35 mile radii some sources give instead"),
        item(swatch({ fill: "#111", stroke: "#111", "stroke-width": 2, r: 5 }, "dot"), "the At Tanf garrison"),
        item(swatch({ fill: "#fff", stroke: "#111", "stroke-width": 2, r: 3.5 }, "dot"), "other places named by the sources"),
        item(swatch({ fill: "none", stroke: "#555", "stroke-width": 1.2, "stroke-dasharray": "6 3" }, "line"), "country borders (approximate)")),
      el("p", { class: "legend-note" }, "Markers that would overlap are moved aside, never across the zone's line, "
        + "with a thin line to their place. "
        + "Click or tap anywhere for its distance from the garrison.")));
}
