// The legend: marker shapes (type) and fills (zone status), the zone, the band, the regions.
import { el, svg } from "./dom.js";
import { markerSvg, STATUS_COLOURS, TYPE_SHAPES } from "./markers.js";

const L = window.L;

function swatch(attrs) {
  return svg("svg", { width: 22, height: 14, "aria-hidden": "true" }, svg("rect", { x: 1, y: 1, width: 20, height: 12, ...attrs }));
}

export function addLegend(map, types, { collapsed = false } = {}) {
  const control = L.control({ position: "topright" });
  control.onAdd = () => {
    const body = el("div", { class: "legend-body", id: "legend-body" },
      el("p", { class: "legend-head" }, "Shape: type"),
      el("ul", {}, types.filter((t) => TYPE_SHAPES[t]).map((t) => el("li", {}, markerSvg(t, "inside", 16), t))),
      el("p", { class: "legend-head" }, "Fill: inside the zone?"),
      el("ul", {},
        el("li", {}, markerSvg("Explosions/Remote violence", "inside", 16), "inside (solid)"),
        el("li", {}, markerSvg("Explosions/Remote violence", "uncertain", 16), "uncertain (dashed, dot)"),
        el("li", {}, markerSvg("Explosions/Remote violence", "contested", 16), "contested: sources disagree (split)"),
        el("li", {}, markerSvg("Explosions/Remote violence", "outside", 16), "outside (hollow)")),
      el("ul", {},
        el("li", {}, swatch({ fill: "none", stroke: "#7b3294", "stroke-width": 2.5 }), "the 55 km zone"),
        el("li", {}, swatch({ fill: "#7b3294", "fill-opacity": 0.2, stroke: "none" }), "34–35 mi variants"),
        el("li", {}, swatch({ fill: "none", stroke: STATUS_COLOURS.inside, "stroke-width": 2 }), "where a source puts it"),
        el("li", {}, swatch({ fill: STATUS_COLOURS.inside, "fill-opacity": 0.35, stroke: STATUS_COLOURS.inside }), "where all its sources can be right (selected)"),
        el("li", {}, swatch({ fill: "none", stroke: STATUS_COLOURS.uncertain, "stroke-dasharray": "4 3" }), "…straddling the edge"),
        el("li", {}, swatch({ fill: "none", stroke: "#555", "stroke-dasharray": "6 3" }), "borders (approximate)")));
    const toggle = el("button", { type: "button", class: "legend-toggle", "aria-expanded": "true", "aria-controls": "legend-body" }, "Legend");
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      body.hidden = open;
    });
    const box = el("div", { class: "legend" }, toggle, body);
    // The open legend stays within the map, above the attribution, and scrolls if it must.
    const fit = () => { body.style.maxHeight = `${Math.max(80, map.getSize().y - 70)}px`; };
    map.on("resize", fit);
    fit();
    if (collapsed) toggle.click();
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  control.addTo(map);
}
