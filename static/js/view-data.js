// What the map asks the API for, and how: light listings (only what markers and the list show;
// a card's details come when it opens), the incidents of the view, or their counts per grid
// cell when more fall in view than a reader can tell apart (/api/collections/events/grid).
import { STATUSES } from "./format.js";
import { appPath } from "./urls.js";

// What a marker, its label and the list need of an incident (about a tenth of the whole).
export const LIGHT = "title,date_start,date_end,date_precision,event_type,zone_status,located";
// Up to this many incidents in all, the map holds them all (one light listing, ~4 KB for the
// bundled 36) and filters in the browser; beyond, it asks the API per view and per page.
export const SMALL = 500;
// Beyond this many incidents in view, the map draws counts per cell instead of markers.
export const MAX_MARKERS = 300;
export const LIST_PAGE = 100;

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/geo+json, application/json" } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

// api("events/items", "limit=10&", params) -> "/api/collections/events/items?limit=10&…": the
// parts joined with "&", empty ones left out.
export const api = (path, ...parts) => {
  const query = parts.map(String).filter(Boolean).join("&");
  return appPath(`/api/collections/${path}${query ? `?${query}` : ""}`);
};

// The filters of the URL state as API parameters; null when they leave nothing (no type or no
// status ticked). first/last/types: the whole dataset's, which need no parameter.
export function filterParams(state, { first, last, types }) {
  const params = new URLSearchParams();
  const from = state.from || first;
  const to = state.to || last;
  if (from !== first || to !== last) params.set("datetime", `${from}/${to}`);
  const status = state.status || STATUSES;
  const kinds = state.types || types;
  if (!status.length || !kinds.length) return null;
  if (status.length < STATUSES.length) params.set("in_zone", status.join(","));
  if (kinds.length < types.length) {
    params.set("filter", `event_type IN (${kinds.map((t) => `'${t.replaceAll("'", "''")}'`).join(",")})`);
  }
  return params;
}

// WebMercatorQuad (the tiles of web maps): the column and row edges of level z, in degrees.
const lonOf = (col, n) => (col / n) * 360 - 180;
const latOf = (row, n) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * row) / n))) * 180) / Math.PI;
const colOf = (lon, n) => Math.floor(((lon + 180) / 360) * n);
function rowOf(lat, n) {
  const phi = (Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * n);
}

// The map's bounds grown to whole tiles of the map's (whole) zoom, so that a small pan asks the
// same URL again (the browser and the server keep it) and the edges hold every cell drawn.
export function viewBox(bounds, zoom) {
  const n = 2 ** Math.max(0, Math.floor(zoom));
  const clampCol = (c) => Math.max(0, Math.min(n, c));
  const west = lonOf(clampCol(colOf(bounds.getWest(), n)), n);
  const east = lonOf(clampCol(colOf(bounds.getEast(), n) + 1), n);
  const north = latOf(Math.max(0, rowOf(bounds.getNorth(), n)), n);
  const south = latOf(Math.min(n, rowOf(bounds.getSouth(), n) + 1), n);
  return [west, south, east, north].map((v) => v.toFixed(6)).join(",");
}

// The grid level whose cells a map at this zoom draws 64 px wide.
export const cellLevel = (zoom) => Math.max(0, Math.min(24, Math.floor(zoom) + 2));
