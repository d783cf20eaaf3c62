"""One self-contained HTML file of the map (folium), for ``at-tanf-map export``.

Leaflet's JavaScript and CSS are inlined from the XStatic-Leaflet package and folium's other CDN
assets are dropped (nothing here needs them), so the file opens from ``file://`` with the network
off and shows everything but the tiles. Folium renders popup and tooltip text as HTML, so every
piece of data text is escaped here, and only http(s) URLs become links.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Figure

from app.data.answer import STATUS_TEXT
from app.data.catalog import Catalog, DerivedIncident
from app.export.borders import border_lines
from app.export.legend import STATUS_WORDS, TYPE_WORDS
from app.export.placement import place_markers
from app.export.regions import MODES, region_style
from app.export.svg import ZONE_COLOUR, Viewport, marker_svg
from app.export.svg_labels import LABEL_SIDE, name_size
from app.export.svg_names import place_name
from app.export.words import day_text, when_text
from app.geo.geojson import to_geojson
from app.web.pages import LEAFLET_DIR

DISPLAY_TOLERANCE_DEG = 50 / 110_574  # regions simplified to 50 m, as on the web map


# What a JavaScript template literal interprets: the backslash (escapes: "C:\\users" would be an
# invalid \u escape, "\n" a new line), the backtick (its end) and "${" (a substitution). As HTML
# character references they reach the page as the characters themselves.
_TEMPLATE_LITERAL = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;"})


def _e(value: object) -> str:
    """Escaped for HTML, and for the JavaScript template literals folium wraps popups in."""
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LITERAL)


def _link(url: str | None, text: str) -> str:
    if url and url.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url)}" target="_blank" rel="noopener noreferrer">{_e(text)}</a>'
    return _e(text)


def card_html(d: DerivedIncident, catalog: Catalog) -> str:
    """The incident card as escaped HTML (the same content as static/js/card.js)."""
    inc = d.incident
    sources = catalog.dataset.sources
    when = _when(d)
    more = " ".join(w for w in (d.answer.share, d.answer.place) if w)
    parts = [
        f'<h3 dir="auto">{_e(inc.title)}</h3>',
        f"<p>{_e(when)} · {_e(inc.event_type)} / {_e(inc.sub_event_type)}</p>",
        f'<div class="status status-{_e(d.status)}"><p><b>{_e(d.answer.headline)}</b></p>'
        + (f"<p>{_e(more)}</p>" if more else "")
        + "</div>",
        f'<p dir="auto">{_e(inc.summary)}</p>',
        *([f"<p><b>Unconfirmed:</b> {_e(inc.unconfirmed)}</p>"] if inc.unconfirmed else []),
        f"<p><b>Actors:</b> {_e('; '.join(inc.actors))}</p>",
    ]
    if inc.fatalities:
        items = "".join(f"<li>{_e(sources[f.source].outlet)}: {_e(f.text)}</li>" for f in inc.fatalities)
        parts.append(f"<p><b>Reported deaths</b></p><ul>{items}</ul>")
    claims = []
    for c in d.claims:
        src = sources[c.claim.source]
        where = c.empty_reason or (STATUS_TEXT[c.measure.status] if c.measure else "")
        quote = f'<blockquote dir="auto">“{_e(c.claim.quote)}”</blockquote>' if c.claim.quote else ""
        claims.append(
            f"<li><b>{_e(c.claim.text)}</b> — {_e(where)}{quote}— {_link(_url(src), src.outlet)}</li>"
        )
    parts.append(f"<p><b>Where, according to each source</b></p><ul>{''.join(claims)}</ul>")
    cites = []
    for cite in inc.sources:
        src = sources[cite.source]
        quote = f'<blockquote dir="auto">“{_e(cite.quote)}”</blockquote>' if cite.quote else ""
        dated = (
            f" ({day_text(src.date)})"
            if isinstance(src.date, dt.date)
            else f" ({src.date})"
            if src.date
            else ""
        )
        cites.append(f"<li>{_link(_url(src), src.outlet)}{_e(dated)}{quote}</li>")
    parts.append(f"<p><b>Sources</b></p><ol>{''.join(cites)}</ol>")
    return f'<div class="card" data-id="{_e(inc.id)}">{"".join(parts)}</div>'


def _dated(date: object) -> str:
    """ " (8 June 2017)" for a day, the text as given otherwise, nothing without a date."""
    if isinstance(date, dt.date):
        return f" ({day_text(date)})"
    return f" ({date})" if date else ""


def _url(source: Any) -> str | None:
    return str(source.url) if source.url else None


def build_map(catalog: Catalog, tile_url: str, tile_attribution: str) -> folium.Map:
    zone = catalog.zone
    lon, lat = zone.centre
    fmap = folium.Map(location=[lat, lon], zoom_start=9, tiles=None, control_scale=True)
    # Nothing from a CDN: Leaflet is inlined below, and nothing here uses folium's other assets.
    fmap.default_js = []
    fmap.default_css = []
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=_e(tile_attribution), name="tiles").add_to(fmap)
    folium.GeoJson(
        border_lines(catalog.dataset.borders),
        name="Borders (Natural Earth, approximate)",
        style_function=lambda _f: {"color": "#555", "weight": 1.2, "dashArray": "6 3", "fill": False},
        interactive=False,
    ).add_to(fmap)
    if zone.variant_band is not None:
        folium.GeoJson(
            to_geojson(shapely.simplify(zone.variant_band, DISPLAY_TOLERANCE_DEG)),
            name="34–35 mi variants",
            style_function=lambda _f: {"color": ZONE_COLOUR, "weight": 0.5, "fillOpacity": 0.12},
        ).add_to(fmap)
    folium.GeoJson(
        to_geojson(zone.polygon),
        name=f"{zone.radius_m / 1000:g} km de-confliction zone (geodesic)",
        style_function=lambda _f: {"color": ZONE_COLOUR, "weight": 2.5, "fill": False},
        interactive=False,
    ).add_to(fmap)
    # Sites as small HTML markers: a vector circle is clipped at the edge of Leaflet's renderer.
    # Incidents moved aside as on the map where they would overlap at the opening zoom (off the
    # places' dots), and the places' names at the free place nearest their dots, with a leader
    # line when they stand away (the SVG's rule, app.export.svg_labels), the garrison's first.
    view = Viewport(lat, lon, 9, 1000, 800)
    sites = sorted(catalog.dataset.sites.values(), key=lambda s: s.kind != "garrison")
    dots = {site.id: view.xy(site.lon, site.lat) for site in sites}
    located = [d for d in catalog.incidents if d.point is not None]
    at = [view.xy(d.point[0], d.point[1]) for d in located if d.point is not None]
    dot_boxes = [(x - 7, y - 7, x + 7, y + 7) for x, y in dots.values()]
    spread = place_markers(at, [22.0] * len(at), obstacles=dot_boxes)
    taken = np.array([(sx - 11, sy - 11, sx + 11, sy + 11) for sx, sy in spread] + dot_boxes, dtype=float)
    marker_boxes = np.array([(sx - 11, sy - 11, sx + 11, sy + 11) for sx, sy in spread], dtype=float)
    lines = np.array(
        [(x + (sx - x) * t / 8, y + (sy - y) * t / 8) for (x, y), (sx, sy) in zip(at, spread, strict=True)
         if (x, y) != (sx, sy) for t in range(9)],
        dtype=float,
    ).reshape(-1, 2)  # fmt: skip
    for site in sites:
        garrison = site.kind == "garrison"
        r = 7 if garrison else 5
        x, y = dots[site.id]
        others = np.array([p for k, p in dots.items() if k != site.id], dtype=float).reshape(-1, 2)
        own = np.all(np.abs(taken - np.array([x - 7, y - 7, x + 7, y + 7])) < 1e-6, axis=1)
        placed = place_name(
            x, y, r, name_size(site.name, garrison), first_side=LABEL_SIDE.get(site.id, "right"),
            taken=taken[~own], markers=marker_boxes, other_dots=others, lines=lines,
            frame=(-2000.0, -2000.0, 3000.0, 2800.0), must=garrison,
        )  # fmt: skip
        if placed is None:
            continue
        box, leader = placed
        taken = np.vstack([taken, box])
        left, top = box[0] - x + r, box[1] - y + r  # the name's box from the icon's corner
        nx, ny = min(max(r, left), left + box[2] - box[0]), min(max(r, top), top + box[3] - box[1])
        line = f'<path d="M{r},{r}L{nx:.0f},{ny:.0f}" stroke="#111" stroke-width="1.2"/>'
        dot = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * r}" height="{2 * r}" overflow="visible">'
            f"{line if leader else ''}"
            f'<circle cx="{r}" cy="{r}" r="{r - 1.5}" fill="{"#111" if garrison else "#fff"}" '
            'stroke="#111" stroke-width="2"/></svg>'
            f'<span class="site-name{" garrison" if garrison else ""}" dir="auto" '
            f'style="left:{left:.0f}px;top:{top:.0f}px;width:{box[2] - box[0]:.0f}px">{_e(site.name)}</span>'
        )
        folium.Marker(
            [site.lat, site.lon],
            icon=folium.DivIcon(html=dot, icon_size=(2 * r, 2 * r), icon_anchor=(r, r), class_name="site"),
        ).add_to(fmap)
    markers: dict[str, str] = {}
    for d, (x, y), (sx, sy) in zip(located, at, spread, strict=True):
        assert d.point is not None
        # A marker moved aside has a leader line to its point (drawn outside its box).
        dx, dy = round(sx - x), round(sy - y)
        moved = (f'<path d="M11,11L{11 - dx},{11 - dy}" stroke="#333" stroke-opacity="0.8"/>'
                 f'<circle cx="{11 - dx}" cy="{11 - dy}" r="1.5" fill="#333"/>')  # fmt: skip
        icon_svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22" '
            f'overflow="visible"><g class="leader">{moved if dx or dy else ""}</g>'
            f'<g class="body">{marker_svg(11, 11, d.incident.event_type, d.status, 16)}</g></svg>'
        )
        marker = folium.Marker(
            [d.point[1], d.point[0]],
            icon=folium.DivIcon(
                html=icon_svg,
                icon_size=(22, 22),
                icon_anchor=(11 - dx, 11 - dy),
                class_name="incident",
            ),
            popup=folium.Popup(card_html(d, catalog), max_width=340),
            tooltip=folium.Tooltip(_e(d.incident.title)),
        )
        marker.add_to(fmap)
        markers[d.incident.id] = marker.get_name()
    leaflet_js = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    # Leaflet's CSS points at marker and layer-control images this map does not use; a file opened
    # from disk would ask the file system for them, so those references go.
    leaflet_css = re.sub(r"background-image:\s*url\(images/[^)]*\);?", "",
                         (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8"))  # fmt: skip
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(folium.Element(f"<style>{leaflet_css}</style>"), name="leaflet_css_inline")
    # </script> cannot occur inside Leaflet's source, so it can be inlined as is.
    assert "</script" not in leaflet_js.lower()
    root.header.add_child(folium.Element(f"<script>{leaflet_js}</script>"), name="leaflet_js_inline")
    # folium's Popup calls jQuery's $(html)[0] only to turn its (escaped) popup HTML into a node;
    # this stands in for it instead of inlining jQuery.
    root.header.add_child(folium.Element(
        "<script>window.$=window.$||function(h){var t=document.createElement('template');"
        "t.innerHTML=String(h).trim();return [t.content.firstElementChild];};"
        # folium creates each marker with Leaflet's default image icon before it sets ours;
        # an empty image keeps that moment from asking the disk for marker-icon.png.
        "(function(o){o.iconUrl=o.iconRetinaUrl=o.shadowUrl='data:image/gif;base64,"
        "R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==';})(L.Icon.Default.prototype.options);"
        "L.Icon.Default.imagePath='';</script>"), name="jquery_shim")  # fmt: skip
    root.header.add_child(folium.Element(
        "<style>.card{font:13px/1.4 sans-serif;max-height:320px;overflow:auto}"
        ".card h3{font-size:15px;margin:0 0 4px}"
        ".card blockquote{margin:2px 0 4px 4px;padding-left:6px;border-left:3px solid #ccc;font-style:italic}"
        ".incident,.site{background:none;border:0}.site-name{position:absolute;white-space:nowrap;"
        "font:12px/16px sans-serif;text-align:center;box-sizing:border-box;border-radius:3px;"
        "background:rgba(255,255,255,.88)}"
        ".site-name.garrison{font-weight:700}"
        ".incident.selected .body{transform:scale(1.35);transform-origin:11px 11px}"
        ".export-title{position:absolute;z-index:1000;top:8px;left:56px;right:300px;background:#fffe;"
        "padding:4px 10px;border-radius:4px;font:13px/1.3 sans-serif}"
        ".export-title h1{font-size:17px;margin:0}"
        ".export-title p{margin:2px 0 0}"
        ".export-legend,.export-list{position:absolute;z-index:1000;right:8px;width:270px;background:#fffe;"
        "border:1px solid #bbb;border-radius:4px;padding:4px 8px;font:12px/1.35 sans-serif;overflow:auto}"
        ".export-legend{top:8px;max-height:34%}.export-list{top:calc(34% + 24px);bottom:24px}"
        ".export-legend h2,.export-list h2{font-size:13px;margin:2px 0}"
        ".export-legend ul{list-style:none;margin:0;padding:0}.export-legend li{margin:2px 0}"
        ".export-legend svg{vertical-align:middle}.swatch{display:inline-block;width:16px;height:10px}"
        ".export-list ol{margin:0;padding-left:18px}.export-list button{font:inherit;text-align:left;"
        "background:#f4f4f4;border:1px solid #999;border-radius:3px;padding:1px 6px;cursor:pointer}"
        ".export-list summary{cursor:pointer;padding:2px 0}.export-list .card{max-height:none}</style>"),
        name="card_css")  # fmt: skip
    root.script.add_child(
        folium.Element(  # after folium's own script has made the map
            "window.addEventListener('DOMContentLoaded',function(){"
            f"{fmap.get_name()}.attributionControl"
            ".addAttribution('Borders: Natural Earth (approximate)');});"
        )
    )
    root.html.add_child(folium.Element(_chrome(catalog, _years(catalog))), name="export_chrome")
    root.script.add_child(folium.Element(_selection_script(catalog, fmap.get_name(), markers)))
    links = ",".join(f"{_js_string(k)}:{v}" for k, v in markers.items())
    root.script.add_child(
        folium.Element(  # the list opens the same card as the marker
            "window.addEventListener('DOMContentLoaded',function(){"
            f"var m={{{links}}};document.querySelectorAll('.export-list button').forEach(function(b){{"
            "b.addEventListener('click',function(){var k=m[b.dataset.id];if(!k)return;"
            f"{fmap.get_name()}.setView(k.getLatLng(),Math.max({fmap.get_name()}.getZoom(),9));k.openPopup();}});}});}});"
        )
    )
    root.title = f"At Tanf de-confliction zone{_years(catalog)}"
    return fmap


def _claim_regions(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """Each incident's claim regions (and the region all its sources share) as a GeoJSON
    FeatureCollection, by incident id; each feature's properties: ``zone_status``, ``role``
    ("claim" or "common"), as the API's regions."""

    def feature(geom: Any, status: str, role: str) -> dict[str, Any]:
        shape = to_geojson(shapely.simplify(geom, DISPLAY_TOLERANCE_DEG), 5)
        return {"type": "Feature", "properties": {"zone_status": status, "role": role}, "geometry": shape}

    out = {}
    for d in catalog.incidents:
        features = [feature(c.region, c.measure.status, "claim") for c in d.claims
                    if c.region is not None and c.measure is not None]  # fmt: skip
        common = d.evidence.common_measure
        if d.common is not None and common is not None:
            features.append(feature(d.common, common.status, "common"))
        if features:
            out[d.incident.id] = {"type": "FeatureCollection", "features": features}
    return out


def _selection_script(catalog: Catalog, map_name: str, markers: dict[str, str]) -> str:
    """The claim regions drawn as on the map (app.export.regions): every incident's a faint
    footprint; the one under the pointer outlined; the selected one (its card open) filled, its
    marker larger and on top. A pane under the zone's line holds them."""
    regions = _claim_regions(catalog)
    statuses = sorted({f["properties"]["zone_status"] for fc in regions.values() for f in fc["features"]})
    styles = {
        mode: {
            f"{s}|{role}": region_style(s, role == "common", mode)
            for s in statuses
            for role in ("claim", "common")
        }
        for mode in MODES
    }
    links = ",".join(f"{_js_string(k)}:{v}" for k, v in markers.items())
    return (
        "window.addEventListener('DOMContentLoaded',function(){"
        f"var map={map_name},M={{{links}}},R={_json(regions)},S={_json(styles)};"
        "var layers={},sel=null,hov=null;"
        "map.createPane('claims').style.zIndex=390;var paper=L.svg({pane:'claims'});"
        "function mode(id){return id===sel?'selected':id===hov?'hover':'footprint';}"
        "function style(m){return function(f){return S[m][f.properties.zone_status+'|'+f.properties.role];};}"
        "Object.keys(R).forEach(function(id){layers[id]=L.geoJSON(R[id],{interactive:false,renderer:paper,"
        "className:'claim-region',style:style('footprint')}).addTo(map);});"
        "function restyle(){Object.keys(layers).forEach(function(id){var m=mode(id);"
        "if(layers[id].mode===m)return;layers[id].mode=m;layers[id].setStyle(style(m));"
        "if(m!=='footprint')layers[id].bringToFront();});if(sel&&layers[sel])layers[sel].bringToFront();}"
        "function mark(id,on){var k=M[id];if(!k)return;var e=k.getElement();"
        "if(e)e.classList.toggle('selected',on);"
        "k.setZIndexOffset(on?1000:0);}"
        "Object.keys(M).forEach(function(id){var k=M[id],e=k.getElement();if(e)e.dataset.id=id;"
        "k.on('popupopen',function(){if(sel)mark(sel,false);sel=id;mark(id,true);restyle();});"
        "k.on('popupclose',function(){if(sel===id){mark(id,false);sel=null;restyle();}});"
        "k.on('mouseover',function(){hov=id;restyle();});"
        "k.on('mouseout',function(){if(hov===id){hov=null;restyle();}});});"
        "});"
    )


def _json(value: object) -> str:
    """JSON for inside a <script> (no "<", so no "</script>" in data)."""
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")


def _js_string(text: str) -> str:
    """A JavaScript string literal of ``text`` (ids are plain, but nothing is assumed)."""
    import json

    return json.dumps(text).replace("<", "\\u003c")


def _when(d: DerivedIncident) -> str:
    return when_text(d.incident.date.start, d.incident.date.last, d.incident.date.precision)


def _years(catalog: Catalog) -> str:
    """The years the incidents span, as ", 2016-2024" (an en dash), or nothing."""
    incidents = catalog.dataset.incidents
    first = min((i.date.start.year for i in incidents), default=None)
    last = max((i.date.last.year for i in incidents), default=None)
    return "" if first is None else f", {first}" if first == last else f", {first}–{last}"


def _chrome(catalog: Catalog, years: str) -> str:
    """Title, legend and the list of incidents around the map, as escaped HTML."""
    types = sorted({d.incident.event_type for d in catalog.incidents if d.point is not None})
    shown = {d.status for d in catalog.incidents}

    def icon(event_type: str, status: str) -> str:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 22 22">'
            f"{marker_svg(11, 11, event_type, status, 16)}</svg>"
        )

    legend = "".join(f"<li>{icon(t, 'inside')} {_e(TYPE_WORDS.get(t, t))}</li>" for t in types)
    legend += "".join(
        f"<li>{icon('Explosions/Remote violence', s)} {_e(w)}</li>" for s, w in STATUS_WORDS if s in shown
    )
    legend += (
        f'<li><span class="swatch" style="border:2px solid {ZONE_COLOUR}"></span> the '
        f"{catalog.zone.radius_m / 1000:g} km de-confliction zone, drawn exactly</li>"
        '<li><span class="swatch" style="border:1px dashed #555"></span> country borders (approximate)</li>'
    )
    # Each incident's card, the same as its marker's, folded under its title; located ones also
    # have a button that shows them on the map.
    items = "".join(
        f'<li><details><summary><b dir="auto">{_e(d.incident.title)}</b><br>{_e(_when(d))}</summary>'
        + (f'<button type="button" data-id="{_e(d.incident.id)}">Show on the map</button>' if d.point else "")
        + f"{card_html(d, catalog)}</details></li>"
        for d in sorted(catalog.incidents, key=lambda d: d.incident.date.start)
    )
    return (
        f'<header class="export-title"><h1>The At Tanf de-confliction zone{_e(years)}</h1>'
        "<p>Every incident reported in and around the zone, with its sources. Click a marker or a "
        "name in the list for its card.</p></header>"
        f'<section class="export-legend"><h2>Legend</h2><ul>{legend}</ul></section>'
        f'<nav class="export-list"><h2>Incidents</h2><ol>{items}</ol></nav>'
    )


def export_html(catalog: Catalog, target: Path, tile_url: str, tile_attribution: str) -> int:
    """Write the file; returns its size in bytes."""
    page = build_map(catalog, tile_url, tile_attribution).get_root().render()
    target.write_text(page, encoding="utf-8")
    return target.stat().st_size
