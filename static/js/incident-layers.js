// The incidents on the map: markers (fanned out where they would overlap), regions (a faint
// footprint, outlined under the pointer, filled when selected), counts per cell at scale, and the
// names that give way to them (labels.js). It is told what to show; it loads nothing.
import { STATUS_TEXT, whenText } from "./format.js";
import { regionStyle } from "./layers.js";
import { cellMarker } from "./cells.js";
import { boxesOn, panOnFocus } from "./focus-view.js";
import { arrange, markerIcon, OVERVIEW_ZOOM, SIZE, STACK_REACH, STATUS_COLOURS } from "./markers.js";

// The zone's line as the placement sees it: 128 vertices are within 0.05 px of the circle at a
// radius of 200 px (r (1 - cos(pi / 128))), well under the room a marker keeps from the line.
const ZONE_VERTICES = 128;
const STATUSES_IN_ORDER = ["inside", "uncertain", "contested", "outside"];

const L = window.L;

export class IncidentLayers {
  // onSelect(id, {from}): a marker clicked ("map") or pressed with Enter or Space ("keyboard");
  // onHover(id | null): the pointer or the focus is on a marker, or left it.
  constructor(map, labels, { onSelect, onHover, reducedMotion }) {
    this.map = map;
    this.labels = labels;
    this.onSelect = onSelect;
    this.onHover = onHover;
    this.reducedMotion = reducedMotion;
    this.footprintLayer = L.layerGroup().addTo(map);
    this.regionLayer = L.layerGroup().addTo(map);
    this.leaderLayer = L.layerGroup().addTo(map);
    this.markerLayer = L.layerGroup().addTo(map);
    this.stackLayer = L.layerGroup().addTo(map);
    this.cellLayer = L.layerGroup().addTo(map);
    this.footprintsByEvent = new Map();
    this.regionsByEvent = new Map();
    this.markers = new Map();
    this.drawnCells = null;
    this.selected = null;
    this.hovered = null;
    panOnFocus(map);
  }

  // Regions (GeoJSON features with event_id) drawn as footprints, or as an incident's own.
  addRegions(features, { footprint = false } = {}) {
    const into = footprint ? this.footprintsByEvent : this.regionsByEvent;
    const className = footprint ? "claim-footprint" : "claim-region";
    for (const feature of features) {
      if (!feature.geometry) continue;
      const layer = L.geoJSON(feature, { interactive: false, className, style: (f) => regionStyle(f, "footprint") });
      layer.mode = "footprint";
      const list = into.get(feature.properties.event_id) || [];
      list.push(layer);
      into.set(feature.properties.event_id, list);
    }
  }

  markerOf(feature) {
    if (this.markers.has(feature.id)) return this.markers.get(feature.id);
    const [lon, lat] = feature.geometry.coordinates;
    const marker = L.marker([lat, lon], { icon: markerIcon(feature), keyboard: true, autoPanOnFocus: false, title: feature.properties.title });
    marker.feature = feature;
    marker.offset = [0, 0];
    marker.on("click", () => this.onSelect(feature.id, { from: "map" }));
    // Pointing at a marker (or tabbing to it) outlines where its sources put it.
    marker.on("mouseover", () => this.onHover(feature.id));
    marker.on("mouseout", () => this.onHover(null));
    marker.on("add", () => {
      const element = marker.getElement();
      element.addEventListener("focus", () => this.onHover(feature.id));
      element.addEventListener("blur", () => this.onHover(null));
      // Enter or Space selects exactly as a click does, the focus going into the card.
      element.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        this.onSelect(feature.id, { from: "keyboard" });
      });
    });
    this.markers.set(feature.id, marker);
    return marker;
  }

  // The marker on the map for this incident, or null (not located, or filtered out).
  shownMarker(id) {
    const marker = id ? this.markers.get(id) : null;
    return marker && this.markerLayer.hasLayer(marker) ? marker : null;
  }

  // Shows these incidents' markers and regions (the selection among them), changing only what
  // changed.
  draw(features, selectedId) {
    this.selected = selectedId;
    const ids = new Set(features.map((f) => f.id));
    for (const feature of features) if (feature.geometry) this.markerOf(feature);
    for (const [id, marker] of this.markers) {
      if (ids.has(id) && !this.markerLayer.hasLayer(marker)) this.markerLayer.addLayer(marker);
      if (!ids.has(id) && this.markerLayer.hasLayer(marker)) this.markerLayer.removeLayer(marker);
    }
    for (const [byEvent, group] of [[this.regionsByEvent, this.regionLayer], [this.footprintsByEvent, this.footprintLayer]]) {
      for (const [id, layers] of byEvent) {
        for (const layer of layers) {
          if (!ids.has(id)) group.removeLayer(layer);
          else if (!group.hasLayer(layer)) group.addLayer(layer);
        }
      }
    }
    this.styleRegions();
    this.spread();
    this.layoutLabels();
  }

  // The counts per cell (cells: the API's features, drawn by toMarker(cell) -> L.Marker: cells.js).
  // A cell drawn already (the same properties: place, counts and dates) keeps its marker, and the
  // keyboard's focus with it: a view load bringing the same cells again (the pan that shows a
  // focused circle clear of the panels asks the same grid URL) drew every circle anew, the focus
  // dropped to the page and the reader's Enter zoomed nowhere.
  drawCells(cells, toMarker) {
    if (this.drawnCells === cells) return;
    const drawn = new Map(this.cellLayer.getLayers().map((m) => [m.cellKey, m]));
    for (const cell of cells) {
      const key = JSON.stringify(cell.properties);
      if (drawn.delete(key)) continue;
      const marker = toMarker(cell);
      marker.cellKey = key;
      this.cellLayer.addLayer(marker);
    }
    for (const gone of drawn.values()) this.cellLayer.removeLayer(gone);
    this.drawnCells = cells;
    this.layoutLabels();
  }

  // Runs draw() (markers placed again, a new view's markers and circles) keeping the keyboard's
  // focus in the map. A focused incident's marker keeps it, or hands it to the numbered circle it
  // is drawn in now. Where the circle or marker that held it went away (Enter on a circle zooms
  // in, and the new view's circles are all new DOM: the focus fell to the page, and Tab started
  // again from the top), it goes to what is drawn nearest the place it stood: the circle now
  // covering that place (a part of the one zoomed into, or the same crowd's circle drawn anew),
  // or the marker nearest it. Not the first in the DOM: circles and markers come in the API's
  // order, not the map's; the reader, who asked to look closer at that place, hears where the
  // zoom took them and tabs on from there (WAI-ARIA practices: a focused element that goes away
  // hands the focus to the one that takes its place).
  keepingFocus(draw) {
    const container = this.map.getContainer();
    const focused = document.activeElement;
    const held = focused?.closest?.(".incident-icon, .cell-icon") && container.contains(focused) ? this.centreOf(focused) : null;
    const marker = held && [...this.markers.values()].find((m) => m.getElement() === focused);
    draw();
    if (!held) return;
    const element = marker && this.markerLayer.hasLayer(marker) ? marker.getElement() : null;
    let target = element && (element.classList.contains("stacked")
      ? container.querySelector(`.cell-icon[data-stack="${element.dataset.stack}"]`) : element);
    if (!target && container.contains(document.activeElement)) return;
    if (!target) {
      const at = this.map.latLngToContainerPoint(held);
      const distance = (e) => at.distanceTo(this.map.latLngToContainerPoint(this.centreOf(e)));
      const drawn = [...this.cellLayer.getLayers(), ...this.stackLayer.getLayers(), ...this.markerLayer.getLayers()]
        .map((m) => m.getElement()).filter((e) => e && !e.classList.contains("stacked"));
      target = drawn.reduce((best, e) => (!best || distance(e) < distance(best) ? e : best), null);
    }
    if (target && document.activeElement !== target) target.focus({ preventScroll: true });
  }

  // The place (LatLng) at the centre of an element drawn on the map (a marker moved aside: where
  // it is drawn, not its point).
  centreOf(element) {
    const corner = this.map.getContainer().getBoundingClientRect();
    const r = element.getBoundingClientRect();
    return this.map.containerPointToLatLng([r.left + r.width / 2 - corner.left, r.top + r.height / 2 - corner.top]);
  }

  regionMode(id) {
    if (id === this.selected) return "selected";
    return id === this.hovered ? "hover" : "footprint";
  }

  // Each region styled for its incident's mode; the selected and hovered ones drawn on top.
  styleRegions() {
    for (const [id, layers] of this.regionsByEvent) {
      const mode = this.regionMode(id);
      for (const layer of layers) {
        if (layer.mode !== mode) {
          layer.setStyle((f) => regionStyle(f, mode));
          layer.mode = mode;
        }
        if (mode !== "footprint" && this.regionLayer.hasLayer(layer)) layer.bringToFront();
      }
    }
  }

  // -> whether the hovered incident changed.
  setHover(id) {
    if (this.hovered === id) return false;
    this.hovered = id;
    this.styleRegions();
    return true;
  }

  // Labels give way to markers, controls and one another (labels.js).
  layoutLabels() {
    const container = this.map.getContainer();
    const obstacles = [
      ...[...this.markers.values()].filter((m) => this.markerLayer.hasLayer(m) && m.getElement()).map((m) => m.getElement())
        .filter((e) => !e.classList.contains("stacked")),
      ...[...this.cellLayer.getLayers(), ...this.stackLayer.getLayers()].map((m) => m.getElement()).filter(Boolean),
      ...container.querySelectorAll(".leaflet-control"),
      // the card's sheet over the lower part of a phone's screen (sheet.js), when it is open
      ...[document.getElementById("sheet")].filter((e) => e && !e.hidden && e.getBoundingClientRect().height),
      ...this.map.getPane("overlayPane").querySelectorAll("path.site-point"),
    ];
    this.labels.layout(obstacles);
    // Where the garrison's name cannot read as its own (a crowd fanned out all round its dot) in
    // an overview, every crowd that spreads is drawn as its numbered circle instead (as the
    // server's drawings); zoomed in, the reader sees each marker.
    if (!this.labels.readsAsItsOwn && !this.stackedAll && this.map.getZoom() < OVERVIEW_ZOOM) {
      this.spread(true);
      this.layoutLabels();
    }
  }

  // The zone's line in container px (at most ZONE_VERTICES vertices: within a fraction of a
  // pixel of the exact circle at any zoom the map offers), or null before the zone is known.
  zoneRing() {
    const ring = this.zone?.geometry?.coordinates?.[0];
    if (!ring) return null;
    const step = Math.max(1, Math.ceil(ring.length / ZONE_VERTICES));
    return ring.filter((_, i) => i % step === 0).map(([lon, lat]) => {
      const p = this.map.latLngToContainerPoint([lat, lon]);
      return [p.x, p.y];
    });
  }

  // Markers moved aside where they would cover one another, a site's dot or another incident's
  // point (markers.js), each on the same side of the zone's line as its point, a leader line to
  // the point of each one moved; the selected one larger and on top; each a button named with
  // its title, date and zone status. A crowd with no room on its side of the line, or that would
  // spread further than STACK_REACH of the map's smaller side (a small frame, a view zoomed far
  // out), is one numbered circle instead, on the same side, which zooms in to its incidents when
  // clicked (as the counts per cell at scale).
  // all: every crowd that spreads at all is stacked (layoutLabels asks it so).
  spread(all = false) {
    this.keepingFocus(() => this.spreadNow(all));
  }

  spreadNow(all) {
    this.stackedAll = all;
    const map = this.map;
    const shown = [...this.markers.values()].filter((m) => this.markerLayer.hasLayer(m));
    const xy = shown.map((m) => map.latLngToContainerPoint(m.getLatLng()));
    const points = xy.map((p) => [p.x, p.y]);
    // Markers keep off the places' dots and the controls (zoom, legend, attribution), and one
    // moved aside stays on the map.
    const obstacles = boxesOn(map, [...map.getPane("overlayPane").querySelectorAll("path.site-point"),
      ...map.getContainer().querySelectorAll(".leaflet-control")]);
    const bounds = [0, 0, map.getSize().x, map.getSize().y];
    const zone = this.zoneRing();
    const first = shown.findIndex((m) => m.feature.id === this.selected);
    // The selected marker is drawn a quarter larger (map.css): it takes that room.
    const sizes = shown.map((_, i) => (i === first ? Math.ceil(SIZE * 1.25) : SIZE));
    const { at, stacks, stackAt } = arrange(points, sizes,
      { first, obstacles, bounds, zone, reach: all ? 0 : STACK_REACH * Math.min(map.getSize().x, map.getSize().y), hideOutOfView: true });
    const stacked = new Set(stacks.flat());
    this.leaderLayer.clearLayers();
    this.stackLayer.clearLayers();
    stacks.forEach((g, k) => this.stackLayer.addLayer(this.stackMarker(g.map((i) => shown[i]), stackAt[k], k)));
    shown.forEach((marker, i) => {
      const selected = i === first;
      const offset = [Math.round(at[i][0] - points[i][0]), Math.round(at[i][1] - points[i][1])];
      const key = `${offset}|${selected}`;
      if (marker.iconKey !== key) {
        marker.setIcon(markerIcon(marker.feature, offset, selected));
        marker.iconKey = key;
        marker.setZIndexOffset(selected ? 1000 : 0);
      }
      if ((offset[0] || offset[1]) && !stacked.has(i)) {
        const moved = map.containerPointToLatLng(xy[i].add(offset));
        const style = { pane: "leaders", interactive: false, color: "#333", weight: 1, opacity: 0.8 };
        this.leaderLayer.addLayer(L.polyline([marker.getLatLng(), moved], style));
        this.leaderLayer.addLayer(L.circleMarker(marker.getLatLng(), { ...style, radius: 1.5, fillOpacity: 1, className: "leader-dot" }));
      }
      const element = marker.getElement();
      if (element) {
        const p = marker.feature.properties;
        element.setAttribute("aria-label", `${p.title}, ${whenText(p)}: ${STATUS_TEXT[p.zone_status] || p.zone_status}`);
        element.setAttribute("role", "button");
        element.classList.toggle("stacked", stacked.has(i));
        const stack = stacks.findIndex((g) => g.includes(i));
        if (stack >= 0) element.dataset.stack = String(stack);
        else delete element.dataset.stack;
      }
    });
  }

  // A numbered circle for these markers at [x, y] (container px), drawn as a count per cell.
  stackMarker(members, [x, y], index) {
    const map = this.map;
    const latlng = map.containerPointToLatLng([x, y]);
    const bounds = L.latLngBounds(members.map((m) => m.getLatLng()));
    const counts = { count: members.length };
    for (const m of members) counts[m.feature.properties.zone_status] = (counts[m.feature.properties.zone_status] || 0) + 1;
    const cell = { properties: { ...counts, mean_lat: latlng.lat, mean_lon: latlng.lng,
      points_bbox: [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()] } };
    const marker = cellMarker(cell, (where) => {
      const zoom = map.getZoom();
      const target = Math.min(zoom + 3, Math.max(zoom + 1, map.getBoundsZoom(where.pad(0.3))));
      map.setView(where.getCenter(), target, { animate: !this.reducedMotion });
    });
    marker.members = members;
    // Its ring says the incidents' fills, in the legend's order and colours (red: inside ...).
    marker.on("add", () => {
      const element = marker.getElement();
      element.dataset.stack = String(index);
      element.classList.add("stack-icon");
      let from = 0;
      const stops = STATUSES_IN_ORDER.filter((s) => counts[s]).map((s) => {
        const to = from + (360 * counts[s]) / members.length;
        const stop = `${STATUS_COLOURS[s]} ${from}deg ${to}deg`;
        from = to;
        return stop;
      });
      element.style.background = `linear-gradient(#fff, #fff) padding-box, conic-gradient(${stops.join(", ")}) border-box`;
    });
    return marker;
  }

  get regionCount() {
    return [...this.regionsByEvent.values()].flat().length;
  }
}
