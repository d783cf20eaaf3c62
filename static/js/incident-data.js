// What the map loads from the API and holds: the dataset in a few numbers, the light listing, the
// fixed layers, a card's details and an incident's regions when wanted, and, at scale, the view's
// incidents (or their counts per cell) and the list's pages. It draws nothing.
import { appPath } from "./urls.js";
import { api, cellLevel, filterParams, getJSON, LIGHT, LIST_PAGE, MAX_MARKERS, SMALL, viewBox } from "./view-data.js";

const EMPTY = { type: "FeatureCollection", features: [] };
const NO_MATCH = { numberMatched: 0, numberLocated: 0, features: [], totals: { zone_status: {}, interval: null } };

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

export class IncidentData {
  // IncidentData.load({embed, zoneId}) -> IncidentData, with everything the first view needs.
  static async load({ embed, zoneId }) {
    // The dataset in a few numbers (size, types, first and last day): one grid cell. Up to SMALL
    // incidents the map holds them all (light) and filters in the browser; beyond, it asks the
    // API for the view's incidents, or their counts per cell (loadView).
    const overview = await getJSON(api("events/grid", "level=0"));
    const small = overview.numberMatched <= SMALL;
    // The map draws a faint footprint of the regions (within 500 m, about a pixel at its first
    // zooms; 14 KB bundled); the embed (a 100 KB budget) has none.
    const footprintUrl = api("regions/items", "limit=1000&simplify_m=500&properties=event_id,zone_status,role");
    const zonePath = `/api/collections/zones/items/${encodeURIComponent(zoneId)}`;
    const [listing, footprints, zone, band, sites, borders] = await Promise.all([
      small ? getJSON(api("events/items", `limit=${SMALL}&properties=${LIGHT}`)) : Promise.resolve(EMPTY),
      embed || !small ? Promise.resolve(EMPTY) : getAll(footprintUrl),
      // The zone exact (1 m); in the embed within 10 m (a fortieth of a pixel, a third of the bytes).
      getJSON(appPath(`${zonePath}${embed ? "?simplify_m=10" : ""}`)),
      getJSON(appPath(`${zonePath}-variants?simplify_m=${embed ? 500 : 50}`)).catch(() => null),
      getJSON(appPath("/api/collections/sites/items")),
      // The borders are approximate by 1–2 km: the embed's are simplified to 1 km.
      getJSON(appPath(`/api/collections/borders/items${embed ? "?simplify_m=1000" : ""}`)),
    ]);
    return new IncidentData({ embed, overview, small, listing, footprints, zone, band, sites, borders });
  }

  constructor({ embed, overview, small, listing, footprints, zone, band, sites, borders }) {
    Object.assign(this, { embed, overview, small, footprints, zone, band, sites, borders });
    // Small: every incident (light). Large: those seen so far (the view's, the list's pages).
    this.all = listing.features;
    this.byId = new Map(this.all.map((f) => [f.id, f]));
    this.types = Object.keys(overview.totals.event_type).sort();
    [this.first, this.last] = overview.totals.interval || ["", ""];
    this.full = new Map(); // id -> the promise of its whole feature
    this.loaded = new Set(); // ids whose details are in
    this.regionLoads = new Map(); // id -> the promise of its regions
    // At scale: the view's incidents or counts per cell, the filters' counts (level 0), the list.
    this.viewFeatures = [];
    this.viewCells = [];
    this.filtered = overview;
    this.listPage = { features: this.all, numberMatched: this.all.length };
    this.listOffset = 0;
    this.pending = 0; // view loads under way (the tests wait for none)
    this.viewGeneration = 0;
    this.filterGeneration = 0;
  }

  // The URL state's defaults: the whole dataset's range and types.
  get defaults() {
    return { from: this.first, to: this.last, types: this.types };
  }

  featureOf(id) {
    return this.byId.get(id);
  }

  complete(id) {
    return this.loaded.has(id);
  }

  remember(features) {
    for (const feature of features) if (!this.byId.has(feature.id)) this.byId.set(feature.id, feature);
  }

  // Each incident's whole feature (sources, quotes, claims), loaded once, when its card opens.
  details(id) {
    if (!this.full.has(id)) {
      this.full.set(id, getJSON(api(`events/items/${encodeURIComponent(id)}`)).then((feature) => {
        this.byId.set(id, { ...feature, properties: { ...(this.byId.get(id)?.properties || {}), ...feature.properties } });
        this.loaded.add(id);
        return feature;
      }));
    }
    return this.full.get(id);
  }

  // One incident's regions (each claim's, and "common": the one all its sources share), fetched
  // once by their ids (event--claim). -> Promise of the features.
  regionsOf(id) {
    if (!this.regionLoads.has(id)) {
      const simplify = this.embed ? 500 : 50;
      this.regionLoads.set(id, this.details(id).then((feature) => {
        const parts = (feature.properties.location_claims || []).filter((c) => !c.unmapped).map((c) => c.claim_id);
        if (feature.properties.common_area_km2) parts.push("common");
        return Promise.all(parts.map((part) => getJSON(appPath(
          `/api/collections/regions/items/${encodeURIComponent(`${id}--${part}`)}?simplify_m=${simplify}`)).catch(() => null)));
      }).then((found) => found.filter(Boolean)));
    }
    return this.regionLoads.get(id);
  }

  // At scale: the view's incidents (bounds: LatLngBounds), or their counts per cell where more
  // than MAX_MARKERS fall in it. -> true when this load is still the latest.
  async loadView(state, bounds, zoom) {
    this.pending += 1;
    try {
      return await this.loadViewNow(state, bounds, zoom);
    } finally {
      this.pending -= 1;
    }
  }

  async loadViewNow(state, bounds, zoom) {
    const generation = ++this.viewGeneration;
    const params = filterParams(state, this.defaults);
    if (!params) {
      this.viewFeatures = [];
      this.viewCells = [];
      return true;
    }
    params.set("bbox", viewBox(bounds.pad(0.25), zoom));
    const cells = await getJSON(api("events/grid", `level=${cellLevel(zoom)}`, params));
    if (generation !== this.viewGeneration) return false;
    if (cells.numberLocated > MAX_MARKERS) {
      this.viewFeatures = [];
      this.viewCells = cells.features;
      return true;
    }
    // No footprint at scale: the regions meeting a view belong to far more incidents than it shows.
    const page = await getJSON(api("events/items", `limit=${MAX_MARKERS}&properties=${LIGHT}`, params));
    if (generation !== this.viewGeneration) return false;
    this.remember(page.features);
    this.viewFeatures = page.features;
    this.viewCells = [];
    return true;
  }

  // A cell that zooming cannot split opens into the markers of its incidents (up to
  // MAX_MARKERS, fanned out where they overlap); the next view load draws it as a cell again.
  // -> true when this load is still the latest.
  async openCell(state, cell) {
    const params = filterParams(state, this.defaults);
    if (!params) return false;
    const generation = ++this.viewGeneration;
    const [west, south, east, north] = cell.properties.points_bbox; // rounded to 5 decimals
    params.set("bbox", [west - 1e-5, south - 1e-5, east + 1e-5, north + 1e-5].map((v) => v.toFixed(6)).join(","));
    this.pending += 1;
    try {
      const page = await getJSON(api("events/items", `limit=${MAX_MARKERS}&properties=${LIGHT}`, params));
      if (generation !== this.viewGeneration) return false;
      this.remember(page.features);
      this.viewFeatures = page.features;
      this.viewCells = this.viewCells.filter((c) => c.id !== cell.id); // its marker may be a load older
      return true;
    } finally {
      this.pending -= 1;
    }
  }

  async loadList(state) {
    const params = filterParams(state, this.defaults);
    if (!params) return { features: [], numberMatched: 0 };
    return getJSON(api("events/items", `limit=${LIST_PAGE}&offset=${this.listOffset}&properties=${LIGHT}`, params));
  }

  // The filters' counts and the list's first page. -> true when this load is still the latest.
  async loadFiltered(state) {
    const generation = ++this.filterGeneration;
    this.listOffset = 0;
    const params = filterParams(state, this.defaults);
    const [counts, page] = await Promise.all([
      !params ? null : `${params}` ? getJSON(api("events/grid", "level=0", params)) : this.overview,
      this.loadList(state),
    ]);
    if (generation !== this.filterGeneration) return false;
    this.filtered = counts || NO_MATCH;
    this.remember(page.features);
    this.listPage = page;
    return true;
  }

  // Another page of the list (step: -1 or +1).
  async turnPage(state, step) {
    this.listOffset = Math.max(0, this.listOffset + step * LIST_PAGE);
    const page = await this.loadList(state);
    this.remember(page.features);
    this.listPage = page;
  }
}
