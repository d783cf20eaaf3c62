// The map application, shared by the full page (main.js) and the embed (embed.js): it draws what
// the API serves (it computes no geometry) and keeps the view in the URL.
import { el } from "./dom.js";
import { STATUS_TEXT, STATUSES, whenText } from "./format.js";
import { addLegend } from "./legend.js";
import { Labels } from "./labels.js";
import { addBorders, addSites, addZone, regionStyle } from "./layers.js";
import { IncidentList, summaryOf, summaryText } from "./list.js";
import { EmbedCard } from "./embed-card.js";
import { markerIcon, spreadOffsets } from "./markers.js";
import { readState, writeState, ZOOM_SNAP } from "./state.js";
import { appPath } from "./urls.js";
import { cellMarker, splits } from "./cells.js";
import { api, cellLevel, filterParams, getJSON, LIGHT, LIST_PAGE, MAX_MARKERS, SMALL, viewBox } from "./view-data.js";

const L = window.L;
const STATUS_LABELS = { inside: "Inside", uncertain: "Uncertain", contested: "Contested", outside: "Outside" };
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// writeState gives "?a=b" or, for the default view, the bare path.
const queryOf = (url) => (url.startsWith("?") ? url : "");

// Every feature of a collection, following rel=next links (the regions in view: a few pages).
async function getAll(url) {
  const features = [];
  let next = url;
  while (next) {
    const page = await getJSON(next);
    features.push(...page.features);
    next = page.links?.find((l) => l.rel === "next")?.href || null;
  }
  return { type: "FeatureCollection", features };
}

function checkboxes(fieldsetId, values, labels, onChange) {
  const fieldset = document.getElementById(fieldsetId);
  for (const value of values) {
    const id = `${fieldsetId}-${value.replace(/[^a-z]/gi, "-").toLowerCase()}`;
    const input = el("input", { type: "checkbox", id, value, checked: true });
    input.addEventListener("change", onChange);
    fieldset.append(el("label", { for: id, class: "check" }, input, labels[value] || value));
  }
  return () => [...fieldset.querySelectorAll("input:checked")].map((i) => i.value);
}

function setChecked(fieldsetId, values) {
  for (const input of document.getElementById(fieldsetId).querySelectorAll("input")) {
    input.checked = values.includes(input.value);
  }
}


// options: { embed: false, onState(urlQuery) {}, onReady() {} }
export async function startMap(options = {}) {
  const embed = Boolean(options.embed);
  const body = document.body.dataset;
  const map = L.map("map", {
    zoomSnap: ZOOM_SNAP,
    zoomDelta: 0.5,
    // An embed must not hijack the article's scrolling: no wheel zoom, and on touch screens one
    // finger scrolls the page until the reader taps the map.
    scrollWheelZoom: !embed,
    dragging: !(embed && L.Browser.mobile),
    zoomAnimation: !reducedMotion,
    fadeAnimation: !reducedMotion,
    markerZoomAnimation: !reducedMotion,
  });
  map.attributionControl.addAttribution("Borders: Natural Earth (approximate)");
  if (body.tileUrl) {
    const notice = L.control({ position: "bottomright" });
    // The notice covers a corner of the map on a phone: the reader can close it once read.
    notice.onAdd = () => {
      const box = el("div", { class: "notice", role: "status" },
        "Background map tiles could not be loaded; borders, the zone and the incidents are still shown. ",
        el("button", { type: "button", class: "notice-close", "aria-label": "Close this notice",
                       onclick: () => { notice.remove(); map.fire("controlschange"); } }, "×"));
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    let shown = false;
    L.tileLayer(body.tileUrl, { attribution: body.tileAttribution, maxZoom: 18 })
      .on("tileerror", () => { if (!shown) { shown = true; notice.addTo(map); map.fire("controlschange"); } })
      .addTo(map);
  }

  // The whole dataset in a few numbers (its size, types, first and last day): one grid cell.
  // Up to SMALL incidents the map holds them all, in one light listing (what markers and the
  // list show; a card's details come when it opens), and filters in the browser; beyond, it
  // asks the API for the incidents, or their counts per cell, of the view (loadView below).
  const overview = await getJSON(api("events/grid", "level=0"));
  const small = overview.numberMatched <= SMALL;
  // The regions: the map draws a faint footprint of those in view (within 500 m: about a pixel
  // at the zooms it opens at; 14 KB for the bundled data), and each incident's own within 50 m
  // when it is selected or pointed at (regionsOf below); the embed, a figure with a 100 KB
  // budget, has no footprint.
  const footprintUrl = api("regions/items", "limit=1000&simplify_m=500&properties=event_id,zone_status,role");
  const empty = { type: "FeatureCollection", features: [] };
  const [listing, regions, zone, band, sites, borders] = await Promise.all([
    small ? getJSON(api("events/items", `limit=${SMALL}&properties=${LIGHT}`)) : Promise.resolve(empty),
    embed || !small ? Promise.resolve(empty) : getAll(footprintUrl),
    // The map draws the zone exact (within 1 m); the embed within 10 m, a fortieth of a pixel at
    // the zooms it opens at, and a third of the bytes. The band of variants is only indicative.
    getJSON(appPath(`/api/collections/zones/items/${encodeURIComponent(body.zoneId)}${embed ? "?simplify_m=10" : ""}`)),
    getJSON(appPath(`/api/collections/zones/items/${encodeURIComponent(body.zoneId)}-variants?simplify_m=${embed ? 500 : 50}`)).catch(() => null),
    getJSON(appPath("/api/collections/sites/items")),
    // The borders are approximate by 1–2 km: the embed takes them simplified to 1 km.
    getJSON(appPath(`/api/collections/borders/items${embed ? "?simplify_m=1000" : ""}`)),
  ]);
  addBorders(map, borders);
  const labels = new Labels(map);
  const zoneBounds = addZone(map, zone, band, labels);
  addSites(map, sites, labels);
  labels.addCountries(borders, zoneBounds.getCenter());
  const radiusKm = zone.properties.radius_km;

  // Small: every incident (light). Large: those seen so far (the view's, the list's pages).
  const all = listing.features;
  const byId = new Map(all.map((f) => [f.id, f]));
  const types = Object.keys(overview.totals.event_type).sort();
  const [first, last] = overview.totals.interval || ["", ""];
  const defaults = { from: first, to: last, types, status: STATUSES };
  // Each incident's whole feature (sources, quotes, claims), loaded when its card opens.
  const full = new Map();
  function details(id) {
    if (!full.has(id)) {
      full.set(id, getJSON(api(`events/items/${encodeURIComponent(id)}`)).then((feature) => {
        byId.set(id, { ...feature, properties: { ...(byId.get(id)?.properties || {}), ...feature.properties } });
        loaded.add(id);
        return feature;
      }));
    }
    return full.get(id);
  }
  const loaded = new Set();
  const complete = (id) => loaded.has(id);
  const featureOf = (id) => byId.get(id);

  const footprintLayer = L.layerGroup().addTo(map);
  const regionLayer = L.layerGroup().addTo(map);
  const footprintsByEvent = new Map();
  const regionsByEvent = new Map();
  function addRegions(collection, into = regionsByEvent, className = "claim-region") {
    for (const feature of collection.features) {
      if (!feature.geometry) continue;
      const layer = L.geoJSON(feature, { interactive: false, className, style: (f) => regionStyle(f, "footprint") });
      layer.mode = "footprint";
      const list = into.get(feature.properties.event_id) || [];
      list.push(layer);
      into.set(feature.properties.event_id, list);
    }
  }
  addRegions(regions, footprintsByEvent, "claim-footprint");

  // The regions of one incident, fetched once, by the ids the API gives them (event--claim),
  // which its details name.
  const fetched = new Map();
  function regionsOf(id) {
    if (fetched.has(id)) return fetched.get(id);
    const loading = details(id).then((feature) => {
      const parts = (feature.properties.location_claims || []).filter((c) => !c.unmapped).map((c) => c.claim_id);
      // The region all its sources share, where there is one (the API names it "common").
      if (feature.properties.common_area_km2) parts.push("common");
      return Promise.all(parts.map((part) => getJSON(appPath(
        `/api/collections/regions/items/${encodeURIComponent(`${id}--${part}`)}?simplify_m=${embed ? 500 : 50}`)).catch(() => null)));
    }).then((found) => {
      addRegions({ features: found.filter(Boolean) });
      render();
    }).catch(() => {});
    fetched.set(id, loading);
    return loading;
  }

  const markerLayer = L.layerGroup().addTo(map);
  const cellLayer = L.layerGroup().addTo(map);
  const markers = new Map();
  function markerOf(feature) {
    if (markers.has(feature.id)) return markers.get(feature.id);
    const [lon, lat] = feature.geometry.coordinates;
    const marker = L.marker([lat, lon], { icon: markerIcon(feature), keyboard: true, title: feature.properties.title });
    marker.feature = feature;
    marker.offset = [0, 0];
    marker.on("click", () => select(feature.id, { from: "map" }));
    // Pointing at a marker (or tabbing to it) outlines where its sources put it.
    marker.on("mouseover", () => setHover(feature.id));
    marker.on("mouseout", () => setHover(null));
    marker.on("add", () => {
      const element = marker.getElement();
      element.addEventListener("focus", () => setHover(feature.id));
      element.addEventListener("blur", () => setHover(null));
      // Enter or Space on a focused marker selects it exactly as a click does, and takes the
      // focus into its card (Tab then reaches the card's links; Escape comes back here).
      element.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        select(feature.id, { from: "keyboard" });
      });
    });
    markers.set(feature.id, marker);
    return marker;
  }
  for (const feature of all) if (feature.geometry) markerOf(feature);

  // Where the selected incident's card goes: map-cards.js on the full map (a popup, or a sheet
  // on a phone), embed-card.js in the embed (under the map).
  const cards = embed
    ? new EmbedCard(document.getElementById("embed-card"))
    : new (await import("./map-cards.js")).MapCards(map, {
      sheetSection: document.getElementById("sheet"),
      reducedMotion,
      isSelecting: () => selecting,
      onClose: (how) => {
        if (!state.sel) return;
        const marker = markers.get(state.sel);
        const hadFocus = how === "sheet" && cards.holds(document.activeElement);
        select(null, { from: how });
        if (hadFocus) marker?.getElement()?.focus({ preventScroll: true });
      },
    });

  // Escape closes the card and gives the focus back to its marker.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !state.sel || !cards.holds(document.activeElement)) return;
    const marker = markers.get(state.sel);
    event.preventDefault();
    select(null, { from: "escape" });
    marker?.getElement()?.focus({ preventScroll: true });
  });

  const closeCard = () => cards.hide();
  // The card shows the whole incident (its details are in by then: select waits for them).
  const showCard = (marker, from) => {
    marker.feature = featureOf(marker.feature.id);
    cards.show(marker, from);
  };

  let state = readState(window.location.search);
  let selecting = false;
  let initialised = false;
  const list = new IncidentList(document.getElementById("incidents"), { onSelect: (id, how) => select(id, how) });
  // The time controls are loaded where they are shown: an embed without timeline=1 keeps its
  // range in the URL state alone and saves the bytes.
  const timeControls = !document.getElementById("controls").hidden;
  const { Timeline } = timeControls ? await import("./timeline.js") : { Timeline: null };
  const timeline = Timeline ? new Timeline({
    // The periods menu lists the months with incidents where the map holds them all, else
    // every month from the first day to the last.
    first, last, reducedMotion, features: small ? all : [{ properties: { date_start: first, date_end: last } }],
    onChange: (range, { commit }) => {
      state.from = range.from;
      state.to = range.to;
      filtersChanged();
      save(commit ? "push" : "replace");
    },
  }) : { set() {}, stop() {} };
  const checkedTypes = checkboxes("type-filters", types, {}, () => { state.types = checkedTypes(); filtersChanged(); save("push"); });
  const checkedStatus = checkboxes("status-filters", STATUSES, STATUS_LABELS, () => { state.status = checkedStatus(); filtersChanged(); save("push"); });

  function save(mode) {
    const url = writeState(state, defaults);
    options.onState?.(queryOf(url));
    if (url === window.location.search || (url === window.location.pathname && !window.location.search)) return;
    // An embed only replaces its URL (its history is the article's; a sandbox may refuse even
    // that) and keeps its fragment (WordPress's "#?secret="); the map's is never shared.
    try {
      window.history[mode === "push" && !embed ? "pushState" : "replaceState"](null, "", url + (embed ? window.location.hash : ""));
    } catch {
      /* sandboxed: keep the state in memory only */
    }
  }

  // -- At scale (more than SMALL incidents): what the view and the list page need --------------
  let viewFeatures = []; // the incidents in view, light, when few enough to draw
  let viewCells = []; // else their counts per grid cell
  let drawnCells = null;
  let filtered = overview; // the grid's one cell (level 0) with the filters: counts, extent
  let listPage = { features: all, numberMatched: all.length };
  let listOffset = 0;
  let viewGeneration = 0;
  let filterGeneration = 0;

  let pending = 0; // view loads under way (the tests wait for none)
  async function loadView() {
    if (small || zeroSized()) return;
    pending += 1;
    try {
      await loadViewNow();
    } finally {
      pending -= 1;
    }
  }
  async function loadViewNow() {
    const generation = ++viewGeneration;
    const params = filterParams(state, defaults);
    if (!params) {
      viewFeatures = [];
      viewCells = [];
      render();
      return;
    }
    const zoom = map.getZoom();
    params.set("bbox", viewBox(map.getBounds().pad(0.25), zoom));
    const cells = await getJSON(api("events/grid", `level=${cellLevel(zoom)}`, params));
    if (generation !== viewGeneration) return;
    if (cells.numberLocated > MAX_MARKERS) {
      viewFeatures = [];
      viewCells = cells.features;
    } else {
      // At scale no footprint: the regions that meet a view are those of far more incidents than
      // it shows (a ring "about 40 km from the garrison" meets every view near it), so only the
      // selected or pointed-at incident's are drawn.
      const page = await getJSON(api("events/items", `limit=${MAX_MARKERS}&properties=${LIGHT}`, params));
      if (generation !== viewGeneration) return;
      for (const feature of page.features) if (!byId.has(feature.id)) byId.set(feature.id, feature);
      viewFeatures = page.features;
      viewCells = [];
    }
    render();
  }

  // A cell that zooming cannot split opens into the markers of its incidents (up to MAX_MARKERS,
  // fanned out where they overlap); the next view load draws it as a cell again.
  async function openCell(cell) {
    const params = filterParams(state, defaults);
    if (!params) return;
    const generation = ++viewGeneration;
    const [west, south, east, north] = cell.properties.points_bbox; // rounded to 5 decimals
    params.set("bbox", [west - 1e-5, south - 1e-5, east + 1e-5, north + 1e-5].map((v) => v.toFixed(6)).join(","));
    pending += 1;
    try {
      const page = await getJSON(api("events/items", `limit=${MAX_MARKERS}&properties=${LIGHT}`, params));
      if (generation !== viewGeneration) return;
      for (const feature of page.features) if (!byId.has(feature.id)) byId.set(feature.id, feature);
      viewFeatures = page.features;
      viewCells = viewCells.filter((c) => c !== cell);
      render();
    } finally {
      pending -= 1;
    }
  }

  async function loadList() {
    const params = filterParams(state, defaults);
    if (!params) return { features: [], numberMatched: 0 };
    return getJSON(api("events/items", `limit=${LIST_PAGE}&offset=${listOffset}&properties=${LIGHT}`, params));
  }

  async function loadFiltered() {
    const generation = ++filterGeneration;
    const params = filterParams(state, defaults);
    const [counts, page] = await Promise.all([
      !params ? null : `${params}` ? getJSON(api("events/grid", "level=0", params)) : overview,
      loadList(),
    ]);
    if (generation !== filterGeneration) return;
    filtered = counts || { numberMatched: 0, numberLocated: 0, features: [], totals: { zone_status: {}, interval: null } };
    for (const feature of page.features) if (!byId.has(feature.id)) byId.set(feature.id, feature);
    listPage = page;
    render();
  }

  function filtersChanged() {
    if (small) {
      render();
      return;
    }
    listOffset = 0;
    loadFiltered();
    loadView();
  }

  const pager = el("nav", { class: "pager", "aria-label": "Pages of the list", hidden: true });
  document.getElementById("incidents").after(pager);
  function turnPage(step) {
    listOffset = Math.max(0, listOffset + step * LIST_PAGE);
    loadList().then((page) => {
      for (const feature of page.features) if (!byId.has(feature.id)) byId.set(feature.id, feature);
      listPage = page;
      render();
      document.getElementById("incidents").focus();
    });
  }
  function renderPager() {
    const matched = listPage.numberMatched;
    pager.hidden = small || matched <= LIST_PAGE;
    if (pager.hidden) return;
    const words = `${(listOffset + 1).toLocaleString("en")}–${(listOffset + listPage.features.length).toLocaleString("en")} of ${matched.toLocaleString("en")}`;
    pager.replaceChildren(
      el("button", { type: "button", disabled: listOffset === 0, onclick: () => turnPage(-1) }, "Previous"),
      el("span", { role: "status" }, words),
      el("button", { type: "button", disabled: listOffset + LIST_PAGE >= matched, onclick: () => turnPage(1) }, "Next"));
  }

  function visibleFeatures() {
    if (!small) return viewFeatures;
    const from = state.from || first;
    const to = state.to || last;
    const typeSet = state.types || types;
    const statusSet = state.status || STATUSES;
    return all.filter((f) => {
      const p = f.properties;
      return p.date_end >= from && p.date_start <= to && typeSet.includes(p.event_type) && statusSet.includes(p.zone_status);
    });
  }

  // Updates layers in place (adding and removing only what changed), so an open popup survives.
  function render() {
    const visible = visibleFeatures();
    const visibleIds = new Set(visible.map((f) => f.id));
    if (small && state.sel && !byId.has(state.sel)) state.sel = null;
    // At scale the selected incident keeps its marker wherever the view is.
    const selected = state.sel && byId.get(state.sel);
    if (!small && selected?.geometry) visibleIds.add(selected.id);
    for (const feature of visible) if (feature.geometry) markerOf(feature);
    if (selected?.geometry) markerOf(selected);
    for (const [id, marker] of markers) {
      if (visibleIds.has(id) && !markerLayer.hasLayer(marker)) markerLayer.addLayer(marker);
      if (!visibleIds.has(id) && markerLayer.hasLayer(marker)) markerLayer.removeLayer(marker);
    }
    if (drawnCells !== viewCells) {
      cellLayer.clearLayers();
      for (const cell of viewCells) {
        cellLayer.addLayer(cellMarker(cell, (bounds) => {
          if (!splits(map, bounds)) return openCell(cell);
          const zoom = Math.min(map.getMaxZoom(), Math.max(map.getZoom() + 1, map.getBoundsZoom(bounds.pad(0.1))));
          map.setView(bounds.getCenter(), zoom, { animate: !reducedMotion });
        }));
      }
      drawnCells = viewCells;
    }
    for (const [byEvent, group] of [[regionsByEvent, regionLayer], [footprintsByEvent, footprintLayer]]) {
      for (const [id, layers] of byEvent) {
        for (const layer of layers) {
          if (!visibleIds.has(id)) group.removeLayer(layer);
          else if (!group.hasLayer(layer)) group.addLayer(layer);
        }
      }
    }
    styleRegions();
    spread();
    layoutLabels();
    const listed = (small ? visible : listPage.features).map((f) => featureOf(f.id) || f);
    list.render(listed, listed.some((f) => f.id === state.sel) ? state.sel : null, complete);
    renderPager();
    const summary = document.getElementById("summary");
    if (small) {
      const shown = visible.map((f) => featureOf(f.id));
      document.getElementById("count").textContent = `(${visible.length} of ${all.length} shown)`;
      summary.textContent = summaryText(all, shown, { ...state, sel: complete(state.sel) ? state.sel : null }, radiusKm);
    } else {
      document.getElementById("count").textContent = `(${filtered.numberMatched.toLocaleString("en")} of ${overview.numberMatched.toLocaleString("en")} shown)`;
      summary.textContent = summaryOf({
        total: overview.numberMatched,
        matched: filtered.numberMatched,
        counts: filtered.totals.zone_status,
        span: filtered.totals.interval,
        unlocated: filtered.numberMatched - filtered.numberLocated,
        selected: complete(state.sel) ? featureOf(state.sel) : null,
      }, radiusKm);
    }
  }

  let hovered = null;
  function regionMode(id) {
    if (id === state.sel) return "selected";
    return id === hovered ? "hover" : "footprint";
  }

  // Each region styled for its incident's mode; the selected and hovered ones drawn on top.
  function styleRegions() {
    for (const [id, layers] of regionsByEvent) {
      const mode = regionMode(id);
      for (const layer of layers) {
        if (layer.mode !== mode) {
          layer.setStyle((f) => regionStyle(f, mode));
          layer.mode = mode;
        }
        if (mode !== "footprint" && regionLayer.hasLayer(layer)) layer.bringToFront();
      }
    }
  }

  function setHover(id) {
    if (hovered === id) return;
    hovered = id;
    if (id) regionsOf(id);
    styleRegions();
  }

  // Labels give way to markers, controls and one another (labels.js).
  function layoutLabels() {
    const obstacles = [
      ...[...markers.values()].filter((m) => markerLayer.hasLayer(m) && m.getElement()).map((m) => m.getElement()),
      ...cellLayer.getLayers().map((m) => m.getElement()).filter(Boolean),
      ...map.getContainer().querySelectorAll(".leaflet-control"),
      ...map.getPane("overlayPane").querySelectorAll("path.site-point"),
    ];
    labels.layout(obstacles);
  }

  // Every located incident that the filters show, with the zone: the calm first view, and the
  // "Show all" button's view. The open legend's width is kept clear on the right.
  function fitAll({ animate = false } = {}) {
    const bounds = L.latLngBounds(zoneBounds.getSouthWest(), zoneBounds.getNorthEast());
    if (small) {
      for (const feature of visibleFeatures()) {
        if (feature.geometry) bounds.extend(L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]));
      }
    } else {
      // At scale: the extent of every located incident the filters keep, from the grid's cell.
      for (const cell of filtered.features) {
        const [west, south, east, north] = cell.properties.points_bbox;
        bounds.extend(L.latLngBounds([south, west], [north, east]));
      }
    }
    const legend = map.getContainer().querySelector(".legend");
    const legendOpen = legend && !legend.querySelector(".legend-body").hidden;
    const right = legendOpen ? legend.getBoundingClientRect().width + 20 : 24;
    map.fitBounds(bounds, { paddingTopLeft: [24, 24], paddingBottomRight: [right, 30], animate: animate && !reducedMotion });
  }

  function spread() {
    const shown = [...markers.values()].filter((m) => markerLayer.hasLayer(m));
    const offsets = spreadOffsets(map, shown);
    shown.forEach((marker, i) => {
      const selected = marker.feature.id === state.sel;
      const key = `${offsets[i]}|${selected}`;
      if (marker.iconKey !== key) {
        marker.setIcon(markerIcon(marker.feature, offsets[i], selected));
        marker.iconKey = key;
        marker.setZIndexOffset(selected ? 1000 : 0);
      }
      const element = marker.getElement();
      if (element) {
        const p = marker.feature.properties;
        element.setAttribute("aria-label", `${p.title}, ${whenText(p)}: ${STATUS_TEXT[p.zone_status] || p.zone_status}`);
        element.setAttribute("role", "button");
      }
    });
  }

  function select(id, { from = "code" } = {}) {
    // Play stops when the reader picks an incident, so its card does not vanish under them.
    if (id && from !== "init") timeline.stop();
    const previous = state.sel;
    state.sel = id;
    if (!["history", "init"].includes(from) && previous !== id) save("push");
    if (id && !complete(id)) {
      // The card needs the incident's details: shown selected now, its card when they are in.
      selecting = true;
      render();
      selecting = false;
      return details(id).then(() => { if (state.sel === id) showSelected(id, from); }, () => {
        if (state.sel !== id) return;
        state.sel = null; // not an incident of this map (an old link): nothing selected
        render();
        save("replace");
      });
    }
    showSelected(id, from);
    return Promise.resolve();
  }

  function showSelected(id, from) {
    selecting = true;
    render();
    if (id) regionsOf(id);
    const marker = id ? markers.get(id) : null;
    if (marker && markerLayer.hasLayer(marker)) {
      // The embed opens on its whole view (the zone and every incident), the selection inside it.
      const pan = !(embed && from === "init") && from !== "map" && from !== "keyboard";
      if (pan) {
        map.panTo(marker.getLatLng(), { animate: !reducedMotion && from !== "init" });
        readerMoved = true; // the view is the selection's now, not the one placed
      }
      showCard(marker, from);
    } else {
      closeCard();
    }
    const item = document.querySelector("#incidents li.selected");
    // Bring the card into view where the list scrolls on its own (never the page on a phone).
    const listScrolls = item && getComputedStyle(item.closest(".panel, .embed-list") || item).overflowY === "auto";
    if (id && item && listScrolls && from !== "list") {
      item.scrollIntoView({ block: "nearest", behavior: reducedMotion || from !== "map" ? "auto" : "smooth" });
    }
    if (id && from === "list") list.focus(id);
    selecting = false;
  }

  // A frame shown after it loaded (display:none, a closed tab, a 0×0 iframe sized later) has
  // no size to fit a view to: the view waits until the container has one, and nothing is
  // written from a zero-sized map (Leaflet#4421, #2738).
  const container = map.getContainer();
  const zeroSized = () => container.clientWidth === 0 || container.clientHeight === 0;
  let viewPending = false;
  let placing = false; // a view the map sets itself is not the reader's: it is not written
  let readerMoved = false;
  function placeView() {
    placing = true;
    try {
      placeViewNow();
    } finally {
      placing = false;
    }
  }
  function placeViewNow() {
    if (zeroSized()) {
      // A provisional view (Leaflet needs one to place anything); the real one comes with a size.
      viewPending = true;
      if (!map._loaded) map.setView(zoneBounds.getCenter(), 8, { animate: false });
      return;
    }
    viewPending = false;
    placedSize = `${container.clientWidth}x${container.clientHeight}`;
    // reset: Leaflet would otherwise pan by whole pixels and lose the link's exact centre.
    if (state.view) map.setView([state.view.lat, state.view.lon], state.view.zoom, { animate: false, reset: true });
    else fitAll();
  }
  let placedSize = "";
  new ResizeObserver(() => {
    const size = `${container.clientWidth}x${container.clientHeight}`;
    if (zeroSized() || size === placedSize) return;
    map.invalidateSize({ animate: false }); // keeps the centre, to a pixel
    // Until the reader moves the map, its view is the one asked for (the link's, or every
    // incident): placed again exactly for the new size.
    if (viewPending || !readerMoved) placeView();
    else spread();
  }).observe(container);

  function apply(next, how) {
    state = { ...next };
    timeline.set({ from: state.from, to: state.to });
    setChecked("type-filters", state.types || types);
    setChecked("status-filters", state.status || STATUSES);
    if (how !== "init") filtersChanged();
    placeView();
    select(state.sel, { from: how });
  }

  // Open where the map has room for it beside a popup; a button away otherwise.
  const legendCollapsed = embed || map.getSize().x < 700;
  addLegend(map, types, {
    collapsed: legendCollapsed,
    onToggle: () => layoutLabels(),
    content: legendCollapsed ? null : await import("./legend-body.js"),
  });
  addShowAll(map, () => fitAll({ animate: true }));
  if (!small) await loadFiltered(); // the first view fits what the filters keep
  apply(state, "init");
  map.on("zoomend", spread);
  map.on("moveend resize controlschange", layoutLabels);
  map.on("moveend", () => loadView());
  map.on("moveend", () => {
    if (!initialised || placing || viewPending || zeroSized()) return;
    readerMoved = true;
    const c = map.getCenter();
    state.view = { lat: c.lat, lon: c.lng, zoom: map.getZoom() };
    save("replace");
  });
  window.addEventListener("popstate", () => apply(readState(window.location.search), "history"));
  map.on("click", (event) => import("./locate.js").then((m) => m.measureAt(map, event)));
  if (embed && L.Browser.mobile) {
    map.once("click", () => map.dragging.enable());
  }
  await loadView(); // at scale: the incidents of the first view, or their counts per cell
  initialised = true;
  options.onState?.(queryOf(writeState(state, defaults)));
  document.body.dataset.ready = "true";
  window.__atTanfMap = {
    map, markers: markers.size, regions: regions.features.length, readyMs: performance.now(),
    mode: small ? "all" : "view", cells: () => viewCells.length, shown: () => markerLayer.getLayers().length,
    pending: () => pending,
  };
  options.onReady?.();
  if (embed) {
    // The first view's regions are the selected incident's: the embed is complete once they are in.
    await (state.sel ? regionsOf(state.sel) : Promise.resolve());
    window.__atTanfMap.regions = [...regionsByEvent.values()].flat().length;
    document.body.dataset.regions = "true";
  }
}

// "Show all": back to every incident the filters show, under the zoom buttons.
function addShowAll(map, onClick) {
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    const button = el("button", { type: "button", class: "show-all", title: "Show every incident on the map" }, "Show all");
    button.addEventListener("click", onClick);
    L.DomEvent.disableClickPropagation(button);
    return el("div", { class: "leaflet-bar show-all-bar" }, button);
  };
  control.addTo(map);
}

export function showLoadError(error) {
  document.getElementById("summary").textContent = `The map could not load its data (${error.message}). The data is still available at /api.`;
  document.body.dataset.ready = "error";
}
