// The map application, shared by the full page (main.js) and the embed (embed.js): it puts the
// parts together (each module says its job) and draws the map, the list and the summary for the
// state in the URL.
import { addShowAll, createMap } from "./basemap.js";
import { EmbedCard } from "./embed-card.js";
import { STATUSES } from "./format.js";
import { IncidentData } from "./incident-data.js";
import { IncidentLayers } from "./incident-layers.js";
import { Labels } from "./labels.js";
import { addBorders, addSites, addZone } from "./layers.js";
import { addLegend } from "./legend.js";
import { IncidentList, summaryOf, summaryText } from "./list.js";
import { MapView } from "./map-view.js";
import { Selection } from "./selection.js";
import { UrlState } from "./url-state.js";
import { finishZoomGlides } from "./zoom-glides.js";

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// The incidents the filters keep (the map holds them all: up to SMALL).
function kept(all, state, { first, last, types }) {
  const from = state.from || first;
  const to = state.to || last;
  const typeSet = state.types || types;
  const statusSet = state.status || STATUSES;
  return all.filter((f) => {
    const p = f.properties;
    return p.date_end >= from && p.date_start <= to && typeSet.includes(p.event_type) && statusSet.includes(p.zone_status);
  });
}

// options: { embed: false, onState(urlQuery) {}, onReady() {} }
export async function startMap(options = {}) {
  const embed = Boolean(options.embed);
  const body = document.body.dataset;
  const map = createMap({ embed, reducedMotion, tileUrl: body.tileUrl, tileAttribution: body.tileAttribution });
  const data = await IncidentData.load({ embed, zoneId: body.zoneId });
  const { small, all, overview, types, first, last } = data;

  addBorders(map, data.borders);
  const labels = new Labels(map);
  const zoneBounds = addZone(map, data.zone, data.band, labels);
  addSites(map, data.sites, labels);
  labels.addCountries(data.borders, zoneBounds.getCenter(), data.zone.geometry);
  const radiusKm = data.zone.properties.radius_km;

  const urlState = new UrlState({ embed, defaults: { ...data.defaults, status: STATUSES }, onState: options.onState });
  const state = () => urlState.state;
  let selection = null;
  const layers = new IncidentLayers(map, labels, {
    reducedMotion,
    onSelect: (id, how) => selection.select(id, how),
    onHover: (id) => {
      if (id) regionsOf(id);
      layers.setHover(id);
    },
  });
  layers.zone = data.zone; // markers moved aside keep to their side of its line
  layers.addRegions(data.footprints.features, { footprint: true });
  for (const feature of all) if (feature.geometry) layers.markerOf(feature);

  // An incident's regions, loaded and drawn once.
  const drawnRegions = new Map();
  function regionsOf(id) {
    if (!drawnRegions.has(id)) {
      drawnRegions.set(id, data.regionsOf(id).then((features) => {
        layers.addRegions(features);
        render();
      }).catch(() => {}));
    }
    return drawnRegions.get(id);
  }

  const view = new MapView(map, {
    zoneBounds, reducedMotion,
    viewOf: () => state().view,
    // markers placed again, and the names given way to them (a layout may stack the crowds)
    onResize: () => { layers.spread(); layers.layoutLabels(); },
    // Small: every located incident the filters show. At scale: the extent of every located
    // incident the filters keep, from the grid's cell.
    points: () => (small
      ? visibleFeatures().filter((f) => f.geometry).map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]])
      : data.filtered.features.map((cell) => {
        const [west, south, east, north] = cell.properties.points_bbox;
        return window.L.latLngBounds([south, west], [north, east]);
      })),
  });

  const list = new IncidentList(document.getElementById("incidents"), { onSelect: (id, how) => selection.select(id, how) });
  // Pages of the list and counts per cell exist at scale only: loaded only then.
  const { ListPager } = small ? {} : await import("./pager.js");
  const { cellMarker, splits } = small ? {} : await import("./cells.js");
  const pager = small ? null : new ListPager(document.getElementById("incidents"), {
    onTurn: (step) => data.turnPage(state(), step).then(() => {
      render();
      document.getElementById("incidents").focus();
    }),
  });
  // The time range and the checkboxes, loaded where they are shown: an embed without
  // timeline=1 keeps its range and filters in the URL state alone and saves the bytes.
  const filters = document.getElementById("controls").hidden ? { set() {}, stop() {} }
    : await (await import("./filters.js")).FilterControls.create({
      types, first, last, reducedMotion,
      // The periods menu lists the years and months that hold incidents, counted in the browser
      // where the map holds them all, else by the API (the grid's totals).
      counts: small ? (await import("./timeline.js")).periodCounts(all) : overview.totals,
      onChange: (part, { commit }) => {
        Object.assign(state(), part);
        filtersChanged();
        urlState.save(commit ? "push" : "replace");
      },
    });

  selection = new Selection({
    urlState, data, layers, view, list, render, regionsOf, embed, reducedMotion,
    stopPlay: () => filters.stop(),
  });
  // Where the selected incident's card goes: map-cards.js on the full map (a popup, or a sheet
  // on a phone), embed-card.js in the embed (under the map).
  const cards = embed
    ? new EmbedCard(document.getElementById("embed-card"))
    : new (await import("./map-cards.js")).MapCards(map, {
      sheetSection: document.getElementById("sheet"),
      reducedMotion,
      isSelecting: () => selection.selecting,
      onClose: (how) => selection.close(how, { refocus: how === "sheet" && cards.holds(document.activeElement) }),
    });
  selection.cards = cards;

  async function loadView() {
    if (small || view.zeroSized()) return;
    if (await data.loadView(state(), map.getBounds(), map.getZoom())) render();
  }

  async function loadFiltered() {
    if (await data.loadFiltered(state())) render();
  }

  function filtersChanged() {
    if (small) {
      render();
      return;
    }
    loadFiltered();
    loadView();
  }

  function visibleFeatures() {
    return small ? kept(all, state(), data) : data.viewFeatures;
  }

  // Draws the map, the list and the summary for the state.
  function render() {
    const visible = visibleFeatures();
    const sel = state().sel;
    if (small && sel && !data.byId.has(sel)) state().sel = null;
    // At scale the selected incident keeps its marker wherever the view is.
    const selected = state().sel && data.featureOf(state().sel);
    const shown = !small && selected?.geometry && !visible.some((f) => f.id === selected.id) ? [...visible, selected] : visible;
    layers.keepingFocus(() => {
      layers.draw(shown, state().sel);
      layers.drawCells(data.viewCells, (cell) => cellMarker(cell, (bounds) => {
        if (!splits(map, bounds)) return data.openCell(state(), cell).then((latest) => latest && render());
        const zoom = Math.min(map.getMaxZoom(), Math.max(map.getZoom() + 1, map.getBoundsZoom(bounds.pad(0.1))));
        map.setView(bounds.getCenter(), zoom, { animate: !reducedMotion });
      }));
    });
    renderList(visible);
  }

  function renderList(visible) {
    const sel = state().sel;
    const listed = (small ? visible : data.listPage.features).map((f) => data.featureOf(f.id) || f);
    list.render(listed, listed.some((f) => f.id === sel) ? sel : null, (id) => data.complete(id));
    // A PostGIS store leaves numberMatched out past its counting cap: the filters' count (the grid's) is the same.
    const matched = data.listPage.numberMatched ?? data.filtered.numberMatched;
    pager?.render({ offset: data.listOffset, shown: data.listPage.features.length, matched });
    const summary = document.getElementById("summary");
    const count = document.getElementById("count");
    const chosen = data.complete(sel) ? sel : null;
    if (small) {
      count.textContent = `(${visible.length} of ${all.length} shown)`;
      summary.textContent = summaryText(all, visible.map((f) => data.featureOf(f.id)), { ...state(), sel: chosen }, radiusKm);
    } else {
      const n = (x) => x.toLocaleString("en");
      count.textContent = `(${n(data.filtered.numberMatched)} of ${n(overview.numberMatched)} shown)`;
      summary.textContent = summaryOf({
        total: overview.numberMatched,
        matched: data.filtered.numberMatched,
        counts: data.filtered.totals.zone_status,
        span: data.filtered.totals.interval,
        range: (state().from || first) > first || (state().to || last) < last
          ? { from: state().from || first, to: state().to || last } : null,
        unlocated: data.filtered.numberMatched - data.filtered.numberLocated,
        selected: chosen ? data.featureOf(chosen) : null,
      }, radiusKm);
    }
  }

  // A state from the address: the link opened ("init") or back/forward ("history").
  function apply(next, how) {
    urlState.state = { ...next };
    filters.set(state());
    if (how !== "init") filtersChanged();
    view.place();
    selection.select(state().sel, { from: how });
  }

  view.watchSize();
  // Open where the map has room for it beside a popup; a button away otherwise.
  const legendCollapsed = embed || map.getSize().x < 700;
  addLegend(map, types, {
    collapsed: legendCollapsed,
    // Opening or closing it (or its "More") changes the room left for the markers: placed again,
    // as after a resize (they stayed under a phone's legend).
    onToggle: () => { layers.spread(); layers.layoutLabels(); },
    content: legendCollapsed ? null : await import("./legend-body.js"),
    footprint: data.footprints.features.length > 0,
  });
  addShowAll(map, () => view.fitAll({ animate: true }));
  if (!small) await data.loadFiltered(state()); // the first view fits what the filters keep
  apply(urlState.state, "init");
  let initialised = false;
  // After every zoom and pan (moveend follows each zoomend) the markers are placed again for
  // the new view (its edges and controls) and the names given way to them, in the same task:
  // nothing lags behind the map. Whatever still glides when Leaflet ends a zoom lands first.
  map.on("zoomend", () => finishZoomGlides(map));
  map.on("moveend", () => {
    layers.spread();
    layers.layoutLabels();
  });
  map.on("resize controlschange", () => layers.layoutLabels());
  map.on("moveend", () => loadView());
  map.on("moveend", () => {
    if (!initialised || !view.readersMove()) return;
    view.readerMoved = true;
    const c = map.getCenter();
    state().view = { lat: c.lat, lon: c.lng, zoom: map.getZoom() };
    urlState.save("replace");
  });
  window.addEventListener("popstate", () => apply(urlState.reread(), "history"));
  map.on("click", (event) => import("./locate.js").then((m) => m.measureAt(map, event)));
  await loadView(); // at scale: the incidents of the first view, or their counts per cell
  initialised = true;
  options.onState?.(urlState.query);
  document.body.dataset.ready = "true";
  window.__atTanfMap = {
    map, markers: layers.markers.size, regions: data.footprints.features.length, readyMs: performance.now(),
    mode: small ? "all" : "view", cells: () => data.viewCells.length, shown: () => layers.markerLayer.getLayers().length,
    pending: () => data.pending,
  };
  options.onReady?.();
  if (embed) {
    // The first view's regions are the selected incident's: the embed is complete once they are in.
    await (state().sel ? regionsOf(state().sel) : Promise.resolve());
    window.__atTanfMap.regions = layers.regionCount;
    document.body.dataset.regions = "true";
  }
}

export function showLoadError(error) {
  document.getElementById("summary").textContent = `The map could not load its data (${error.message}). The data is still available at /api.`;
  document.body.dataset.ready = "error";
}
