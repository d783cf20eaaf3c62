// The standalone export's behaviour (app/export/standalone.py inlines this file after folium's
// script has made the map). Its data is the JSON in <script id="export-data">: the map's and the
// markers' variable names, each incident's claim regions and marker symbol, the region styles
// (app/export/regions.py, the map's regionStyle) and a layout per zoom (app/export/standalone_layout.py).
// Data text goes into the page as text only (textContent). It runs once the page is parsed:
// folium writes the map's own script after this one.
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var D = JSON.parse(document.getElementById("export-data").textContent);
  var map = window[D.map];
  var markers = {};
  var sites = {};
  Object.keys(D.markers).forEach(function (id) { markers[id] = window[D.markers[id]]; });
  Object.keys(D.sites).forEach(function (id) { sites[id] = window[D.sites[id]]; });
  // The layout made for a phone's frame under 700 px wide (the page's own breakpoint), else a desktop's.
  var narrow = window.matchMedia("(max-width: 700px)");
  function layoutsHere() { return D.layout[narrow.matches ? "narrow" : "wide"]; }
  var selected = null;
  var hovered = null;
  var SVG = "http://www.w3.org/2000/svg";

  map.attributionControl.addAttribution("Borders: Natural Earth (approximate)");

  // Claim regions: every incident's a faint footprint; the one pointed at outlined; the selected
  // one (its card open) filled. A pane under the zone's line holds them.
  map.createPane("claims").style.zIndex = 390;
  var paper = L.svg({ pane: "claims" });
  var regions = {};
  function styleFor(mode) {
    return function (f) { return D.styles[mode][f.properties.zone_status + "|" + f.properties.role]; };
  }
  Object.keys(D.regions).forEach(function (id) {
    regions[id] = L.geoJSON(D.regions[id], { interactive: false, renderer: paper, className: "claim-region",
      style: styleFor("footprint") }).addTo(map);
    regions[id].mode = "footprint";
  });
  function modeOf(id) { return id === selected ? "selected" : id === hovered ? "hover" : "footprint"; }
  function restyle() {
    Object.keys(regions).forEach(function (id) {
      var mode = modeOf(id);
      if (regions[id].mode === mode) return;
      regions[id].mode = mode;
      regions[id].setStyle(styleFor(mode));
      if (mode !== "footprint") regions[id].bringToFront();
    });
    if (selected && regions[selected]) regions[selected].bringToFront();
  }

  function layoutHere() {
    var z = Math.round(map.getZoom());
    var layouts = layoutsHere();
    var best = Object.keys(layouts).map(Number)
      .reduce(function (a, b) { return Math.abs(b - z) < Math.abs(a - z) ? b : a; });
    return layouts[best];
  }

  // A marker: its symbol, moved aside by [dx, dy] px with a leader line back to its point. The
  // icon's box sits on the symbol, so a click or a hover lands on what the reader sees.
  function markerIcon(id, offset, isSelected) {
    var dx = offset[0], dy = offset[1];
    var leader = dx || dy ? '<path d="M11,11L' + (11 - dx) + "," + (11 - dy) + '" stroke="#333" stroke-opacity="0.8"/>'
      + '<circle cx="' + (11 - dx) + '" cy="' + (11 - dy) + '" r="1.5" fill="#333"/>' : "";
    var html = '<svg xmlns="' + SVG + '" width="22" height="22" viewBox="0 0 22 22" overflow="visible">'
      + '<g class="leader">' + leader + '</g><g class="body">' + D.bodies[id] + "</g></svg>";
    return L.divIcon({ html: html, className: "incident" + (isSelected ? " selected" : ""),
      iconSize: [22, 22], iconAnchor: [11 - dx, 11 - dy] });
  }

  // A marker in a numbered circle is not drawn (the selected one is, on its point, over the circle).
  function placeMarkers(layout) {
    Object.keys(markers).forEach(function (id) {
      var m = markers[id];
      var stacked = !layout.m[id] && id !== selected;
      var offset = layout.m[id] || [0, 0];
      var key = offset.join(",") + (id === selected ? "|s" : "");
      if (m.iconKey !== key) {
        m.setIcon(markerIcon(id, offset, id === selected));
        m.iconKey = key;
      }
      var e = m.getElement();
      if (e) {
        e.dataset.id = id;
        e.classList.toggle("stacked", stacked);
      }
      m.setZIndexOffset(id === selected ? 1000 : 0);
    });
  }

  // Crowds with no room on their side of the zone's line: one numbered circle each (as the map
  // draws them; the SVG is made by the server), which zooms in to its incidents when clicked.
  var stackLayer = L.layerGroup().addTo(map);
  function placeStacks(layout) {
    stackLayer.clearLayers();
    (layout.k || []).forEach(function (k) {
      var side = k[2];
      var icon = L.divIcon({ html: '<svg xmlns="' + SVG + '" width="' + side + '" height="' + side + '">' + k[4] + "</svg>",
        className: "stack", iconSize: [side, side] });
      var m = L.marker([k[0], k[1]], { icon: icon, keyboard: true }).addTo(stackLayer);
      var e = m.getElement();
      e.dataset.ids = k[3].join(" ");
      e.setAttribute("role", "button");
      e.setAttribute("aria-label", e.querySelector("title").textContent + ": zoom in");
      var where = L.latLngBounds(k[3].map(function (id) { return markers[id].getLatLng(); }));
      function zoomIn() {
        var zoom = map.getZoom();
        map.setView(where.getCenter(), Math.min(zoom + 3, Math.max(zoom + 1, map.getBoundsZoom(where.pad(0.3)))));
      }
      m.on("click", zoomIn);
      e.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); zoomIn(); }
      });
    });
  }

  // A place's name: its box from the dot [x0, y0, x1, y1, leader], or hidden where none is free.
  function placeNames(layout) {
    Object.keys(sites).forEach(function (id) {
      var e = sites[id].getElement();
      if (!e) return;
      var name = e.querySelector(".site-name");
      var line = e.querySelector(".site-leader");
      var r = Number(e.querySelector("svg").getAttribute("width")) / 2;
      var box = layout.s[id];
      name.style.visibility = box ? "" : "hidden";
      name.dataset.placed = box ? "1" : "0";
      line.setAttribute("d", "");
      if (!box) return;
      name.style.left = (box[0] + r) + "px";
      name.style.top = (box[1] + r) + "px";
      name.style.width = (box[2] - box[0]) + "px";
      name.style.height = (box[3] - box[1]) + "px";
      if (box[4]) {
        var nx = Math.min(Math.max(0, box[0]), box[2]), ny = Math.min(Math.max(0, box[1]), box[3]);
        line.setAttribute("d", "M" + r + "," + r + "L" + (nx + r) + "," + (ny + r));
      }
    });
  }

  // Countries' names, from the bundled borders: each at the one of its places (the layout's, clear
  // of the markers and the places' names) whose name is whole in the map, under no control or
  // panel and clear of the names placed before it, farthest from the zone's centre (the map's rule,
  // static/js/labels.js). A country with none is not named.
  var countryLayer = L.layerGroup().addTo(map);
  function placeCountries(layout) {
    countryLayer.clearLayers();
    var frame = map.getContainer().getBoundingClientRect();
    var taken = coverings();
    var centre = map.latLngToContainerPoint(D.centre);
    layout.c.forEach(function (c) {
      var icon = L.divIcon({ html: "", className: "country-name", iconSize: null });
      var m = L.marker(c[1][0], { icon: icon, interactive: false, keyboard: false }).addTo(countryLayer);
      var span = document.createElement("span");
      span.textContent = c[0];
      m.getElement().appendChild(span);
      var w = span.offsetWidth, h = span.offsetHeight;
      var best = null, far = -1;
      c[1].forEach(function (ll) {
        var p = map.latLngToContainerPoint(ll);
        var r = { left: frame.left + p.x - w / 2, right: frame.left + p.x + w / 2,
          top: frame.top + p.y - h / 2, bottom: frame.top + p.y + h / 2 };
        if (p.distanceTo(centre) > far && whole(r, frame, taken)) { best = [ll, r]; far = p.distanceTo(centre); }
      });
      if (!best) { countryLayer.removeLayer(m); return; }
      m.setLatLng(best[0]);
      taken.push(best[1]);
    });
  }

  function relayout() {
    var layout = layoutHere();
    placeMarkers(layout);
    placeStacks(layout);
    placeNames(layout);
    liftScale();
    clip();
  }

  // What a name may not be under: the controls (zoom, scale, attribution) and the panels (title,
  // legend, list), as boxes on the page.
  function coverings() {
    var over = ".leaflet-control, .export-title, .export-legend, .export-list";
    return Array.prototype.map.call(document.querySelectorAll(over), function (c) { return c.getBoundingClientRect(); })
      .filter(function (r) { return r.width; });
  }
  function whole(r, frame, taken) {
    return r.left >= frame.left && r.right <= frame.right && r.top >= frame.top && r.bottom <= frame.bottom
      && !taken.some(function (c) { return c.left < r.right && r.left < c.right && c.top < r.bottom && r.top < c.bottom; });
  }

  // A place's name the map's edge would cut, or a control or panel would cover, is not shown (as
  // on the map, a label goes whole or not at all), nor is its leader line; then the countries.
  function clip() {
    var frame = map.getContainer().getBoundingClientRect();
    var taken = coverings();
    document.querySelectorAll(".site-name").forEach(function (e) {
      if (e.dataset.placed !== "1") return;
      e.style.visibility = "";
      var ok = whole(e.getBoundingClientRect(), frame, taken);
      e.style.visibility = ok ? "" : "hidden";
      e.parentNode.querySelector(".site-leader").style.visibility = ok ? "" : "hidden";
    });
    placeCountries(layoutHere());
  }

  // The scale bar stands above the attribution where the two would meet (a phone's two lines of
  // tile credits covered the "10 mi" bar).
  function liftScale() {
    var corner = document.querySelector(".leaflet-bottom.leaflet-left");
    var credit = document.querySelector(".leaflet-control-attribution");
    if (!corner || !credit) return;
    corner.style.bottom = "";
    var a = corner.getBoundingClientRect(), b = credit.getBoundingClientRect();
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
      corner.style.bottom = credit.offsetHeight + "px";
    }
  }

  function select(id) {
    selected = id;
    restyle();
    placeMarkers(layoutHere());
  }

  Object.keys(markers).forEach(function (id) {
    var m = markers[id];
    m.on("popupopen", function () { select(id); });
    m.on("popupclose", function () { if (selected === id) select(null); });
    m.on("mouseover", function () { hovered = id; restyle(); });
    m.on("mouseout", function () { if (hovered === id) { hovered = null; restyle(); } });
  });

  // The first view fits every located incident beside the panels (over the map on a wide
  // screen, under it on a phone).
  function panelWidth() {
    var list = document.querySelector(".export-list");
    return list && getComputedStyle(list).position === "absolute" ? list.offsetWidth + 16 : 0;
  }
  map.fitBounds(D.bounds, { paddingTopLeft: [24, 70], paddingBottomRight: [panelWidth() + 24, 30], animate: false });
  map.on("zoomend", relayout);
  map.on("moveend", clip);
  map.on("resize", relayout);
  relayout();

  // A card opened in the list selects its incident (its marker larger, its regions filled), as
  // on the map; closed, it lets go. "Show on the map" brings the map and the marker into view,
  // selected (no popup: the card is open beside it).
  document.querySelectorAll(".export-list details").forEach(function (d) {
    var id = d.querySelector(".card").dataset.id;
    d.addEventListener("toggle", function () {
      if (d.open) select(id);
      else if (selected === id) select(null);
    });
  });
  document.querySelectorAll(".export-list button").forEach(function (b) {
    b.addEventListener("click", function () {
      var m = markers[b.dataset.id];
      if (!m) return;
      map.closePopup();
      map.getContainer().scrollIntoView({ block: "start" });
      map.setView(m.getLatLng(), Math.max(map.getZoom(), D.zoom), { animate: false });
      select(b.dataset.id);
    });
  });
});
