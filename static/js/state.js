// The view in the URL: ?v=lat,lon,zoom&from=YYYY-MM-DD&to=YYYY-MM-DD&types=a,b&status=inside,...&sel=id
// Only what differs from the default view is written, so a plain link stays plain.
// app/web/state.py reads the same parameters by the same rules (tests/web/test_state_contract.py).

// The map zooms in quarter steps, so every zoom it writes is exact in decimal and reads back
// as itself; a zoom typed by hand between steps snaps to the nearest one.
export const ZOOM_SNAP = 0.25;
export const ZOOM_RANGE = [1, 18];
// The centre is written to 5 decimals of a degree: within 1.1 m of where the reader left it.
export const CENTRE_DECIMALS = 5;
export const MAX_LAT = 85;
// The parameters writeState owns; anything else in an embed's address is one of its options.
export const STATE_KEYS = ["v", "from", "to", "types", "status", "sel"];

// A plain decimal number (the same pattern as app/web/state.py's NUMBER).
const NUMBER = /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

// "2017-06-01", a day that exists (not "2017-02-30").
function isDay(text) {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(text || "")) return false;
  const parsed = new Date(`${text}T00:00:00Z`);
  return text >= "0001" && !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === text;
}

export function snapZoom(zoom) {
  const snapped = Math.round(zoom / ZOOM_SNAP) * ZOOM_SNAP;
  return Math.max(ZOOM_RANGE[0], Math.min(ZOOM_RANGE[1], snapped));
}

export function readState(search) {
  const q = new URLSearchParams(search);
  const list = (name) => (q.has(name) ? q.get(name).split(",").filter(Boolean).slice(0, 20) : null);
  let view = null;
  if (q.has("v")) {
    const parts = q.get("v").split(",");
    const [lat, lon, zoom] = parts.map((x) => (NUMBER.test(x) ? Number(x) : NaN));
    if (parts.length === 3 && [lat, lon, zoom].every(Number.isFinite) && Math.abs(lat) <= MAX_LAT && Math.abs(lon) <= 180) {
      view = { lat, lon, zoom: snapZoom(zoom) };
    }
  }
  const date = (name) => (isDay(q.get(name)) ? q.get(name) : null);
  return {
    view,
    from: date("from"),
    to: date("to"),
    types: list("types"),
    status: list("status"),
    sel: (q.get("sel") || "").slice(0, 200) || null,
  };
}

// "9.5", "10", "9.25": the zoom as the map holds it, without trailing zeros.
export function zoomText(zoom) {
  return String(Number(snapZoom(zoom).toFixed(2)));
}

export function writeState(state, defaults) {
  const q = new URLSearchParams();
  if (state.view) {
    const { lat, lon, zoom } = state.view;
    q.set("v", `${lat.toFixed(CENTRE_DECIMALS)},${lon.toFixed(CENTRE_DECIMALS)},${zoomText(zoom)}`);
  }
  if (state.from && state.from !== defaults.from) q.set("from", state.from);
  if (state.to && state.to !== defaults.to) q.set("to", state.to);
  const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));
  if (state.types && !sameSet(state.types, defaults.types)) q.set("types", state.types.join(","));
  if (state.status && !sameSet(state.status, defaults.status)) q.set("status", state.status.join(","));
  if (state.sel) q.set("sel", state.sel);
  const text = q.toString().replaceAll("%2C", ",");
  return text ? `?${text}` : window.location.pathname;
}
