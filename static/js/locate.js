// Click anywhere: geodesic distance and bearing from the garrison, inside or outside (/api/locate).
import { el } from "./dom.js";
import { appPath } from "./urls.js";

const L = window.L;

// Loaded on the first click (app.js), so it costs nothing until a reader asks.
export async function measureAt(map, event) {
  const { lat, lng } = event.latlng.wrap();
  const url = appPath(`/api/locate?lon=${lng.toFixed(5)}&lat=${lat.toFixed(5)}`);
  let content;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(String(response.status));
    const r = await response.json();
    content = el("div", { class: "locate" },
      el("strong", {}, `${r.distance_km.toFixed(1)} km ${r.compass} of the garrison`),
      el("br"), `bearing ${Math.round(r.bearing_deg)}° (geodesic, WGS84)`, el("br"),
      r.inside_zone ? `Inside the ${r.zone_radius_km} km zone, ${r.km_to_boundary.toFixed(1)} km from its edge`
        : `Outside the ${r.zone_radius_km} km zone, ${r.km_to_boundary.toFixed(1)} km beyond its edge`);
  } catch {
    content = el("div", { class: "locate" }, "Could not measure this point.");
  }
  L.popup({ className: "locate-popup" }).setLatLng(event.latlng).setContent(content).openOn(map);
}
