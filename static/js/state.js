// The view in the URL: ?v=lat,lon,zoom&from=YYYY-MM-DD&to=YYYY-MM-DD&types=a,b&status=inside,...&sel=id
// Only what differs from the default view is written, so a plain link stays plain.

export function readState(search) {
  const q = new URLSearchParams(search);
  const list = (name) => (q.has(name) ? q.get(name).split(",").filter(Boolean) : null);
  let view = null;
  if (q.has("v")) {
    const [lat, lon, zoom] = q.get("v").split(",").map(Number);
    if ([lat, lon, zoom].every(Number.isFinite) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      view = { lat, lon, zoom: Math.max(1, Math.min(18, Math.round(zoom))) };
    }
  }
  const date = (name) => (/^\d{4}-\d{2}-\d{2}$/.test(q.get(name) || "") ? q.get(name) : null);
  return {
    view,
    from: date("from"),
    to: date("to"),
    types: list("types"),
    status: list("status"),
    sel: q.get("sel") || null,
  };
}

export function writeState(state, defaults) {
  const q = new URLSearchParams();
  if (state.view) {
    const { lat, lon, zoom } = state.view;
    q.set("v", `${lat.toFixed(4)},${lon.toFixed(4)},${zoom}`);
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
