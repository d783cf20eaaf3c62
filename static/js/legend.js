// The legend control: a button at the top right and the legend under it (legend-body.js).
import { el } from "./dom.js";

const L = window.L;

// content: the module legend-body.js, or null to load it when the legend first opens;
// footprint: whether the map draws the other incidents' faint footprint.
export function addLegend(map, types, { collapsed = false, onToggle = () => {}, content = null, footprint = true } = {}) {
  const control = L.control({ position: "topright" });
  control.onAdd = () => {
    // Where the open legend is taller than the map leaves it, it scrolls: a named region that
    // takes the focus, so a keyboard can scroll it too (axe: scrollable-region-focusable).
    const body = el("div", { class: "legend-body", id: "legend-body", role: "region", "aria-label": "Legend", tabindex: "0" });
    const fill = async () => {
      if (body.firstChild) return;
      const words = content || (await import("./legend-body.js"));
      body.replaceChildren(...words.legendBody(types, { footprint }).childNodes);
      body.querySelector("details")?.addEventListener("toggle", () => onToggle(true));
    };
    const toggle = el("button", { type: "button", class: "legend-toggle", "aria-expanded": "true", "aria-controls": "legend-body" }, "Legend");
    // The open legend ends above the controls of the bottom corner (attribution, notices) and
    // scrolls if it must.
    const fit = () => {
      if (body.hidden) return;
      const bottom = map.getContainer().querySelector(".leaflet-bottom.leaflet-right");
      const limit = (bottom ? bottom.getBoundingClientRect().top : map.getContainer().getBoundingClientRect().bottom) - 8;
      body.style.maxHeight = `${Math.max(60, limit - body.getBoundingClientRect().top)}px`;
    };
    const show = async (open) => {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      body.hidden = !open;
      if (open) await fill();
      fit();
      onToggle(open);
    };
    map.on("resize controlschange", fit);
    toggle.addEventListener("click", () => show(toggle.getAttribute("aria-expanded") !== "true"));
    const box = el("div", { class: "legend" }, toggle, body);
    map.whenReady(() => window.requestAnimationFrame(fit));
    if (collapsed) {
      toggle.setAttribute("aria-expanded", "false");
      body.hidden = true;
    } else {
      fill();
    }
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  control.addTo(map);
}
