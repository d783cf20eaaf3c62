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
import shapely
from branca.element import Figure

from app.data.answer import STATUS_TEXT
from app.data.catalog import Catalog, DerivedIncident
from app.export.borders import border_lines
from app.export.legend import STATUS_WORDS, TYPE_WORDS, type_text
from app.export.regions import MODES, region_style, svg_attributes
from app.export.standalone_layout import FRAMES, SITE_RADIUS, layouts
from app.export.svg import ZONE_COLOUR, marker_svg
from app.export.words import day_text, when_text
from app.geo.geojson import to_geojson
from app.web.pages import LEAFLET_DIR

DISPLAY_TOLERANCE_DEG = 50 / 110_574  # regions simplified to 50 m, as on the web map
SCRIPT = Path(__file__).with_name("standalone.js")  # the page's behaviour, inlined


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


def card_html(d: DerivedIncident, catalog: Catalog, *, under_its_line: bool = False) -> str:
    """The incident card as escaped HTML (the same content as static/js/card.js). A card
    ``under_its_line`` (the list's, opened under the line that gives its title and date) leaves
    those out."""
    inc = d.incident
    sources = catalog.dataset.sources
    when = "" if under_its_line else f"{_e(_when(d))} · "
    more = " ".join(w for w in (d.answer.share, d.answer.place) if w)
    parts = [
        *([] if under_its_line else [f'<h3 dir="auto">{_e(inc.title)}</h3>']),
        # What happened in plain words; ACLED's terms for analysts, in a title (as card.js).
        f'<p title="ACLED: {_e(inc.event_type)} / {_e(inc.sub_event_type)}">{when}'
        f"{_e(type_text(inc.event_type, inc.sub_event_type))}</p>",
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
    # Sites as small HTML markers (a vector circle is clipped at the edge of Leaflet's renderer),
    # their names and leader lines placed by the script for the zoom shown; incidents as HTML
    # markers with their cards, moved aside by the script where they would overlap.
    sites: dict[str, str] = {}
    for site in sorted(catalog.dataset.sites.values(), key=lambda s: s.kind != "garrison"):
        garrison = site.kind == "garrison"
        r = SITE_RADIUS[garrison]
        dot = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * r}" height="{2 * r}" overflow="visible">'
            '<path class="site-leader" d="" stroke="#111" stroke-width="1.2"/>'
            f'<circle cx="{r}" cy="{r}" r="{r - 1.5}" fill="{"#111" if garrison else "#fff"}" '
            'stroke="#111" stroke-width="2"/></svg>'
            f'<span class="site-name{" garrison" if garrison else ""}" dir="auto">{_e(site.name)}</span>'
        )
        marker = folium.Marker(
            [site.lat, site.lon],
            icon=folium.DivIcon(html=dot, icon_size=(2 * r, 2 * r), icon_anchor=(r, r), class_name="site"),
        )
        marker.add_to(fmap)
        sites[site.id] = marker.get_name()
    markers: dict[str, str] = {}
    bodies: dict[str, str] = {}
    for d in catalog.incidents:
        if d.point is None:
            continue
        bodies[d.incident.id] = marker_svg(11, 11, d.incident.event_type, d.status, 16)
        icon_svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22" '
            f'overflow="visible"><g class="body">{bodies[d.incident.id]}</g></svg>'
        )
        marker = folium.Marker(
            [d.point[1], d.point[0]],
            icon=folium.DivIcon(
                html=icon_svg, icon_size=(22, 22), icon_anchor=(11, 11), class_name="incident"
            ),
            popup=folium.Popup(card_html(d, catalog), max_width=340),
            tooltip=folium.Tooltip(_e(d.incident.title)),
        )
        marker.add_to(fmap)
        markers[d.incident.id] = marker.get_name()
    points = [d.point for d in catalog.incidents if d.point is not None]
    bounds = (
        [
            [min(p[1] for p in points), min(p[0] for p in points)],
            [max(p[1] for p in points), max(p[0] for p in points)],
        ]
        if points
        else [[lat - 0.5, lon - 0.5], [lat + 0.5, lon + 0.5]]
    )
    data = {
        "map": fmap.get_name(),
        "markers": markers,
        "sites": sites,
        "bodies": bodies,
        "regions": _claim_regions(catalog),
        "styles": _styles(),
        "layout": {name: layouts(catalog, frame) for name, frame in FRAMES.items()},
        "bounds": bounds,
        "centre": [lat, lon],
        "zoom": 9,
    }
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
        ".incident,.site{background:none;border:0}.site>svg{position:absolute;left:0;top:0}"
        ".site-name{position:absolute;white-space:nowrap;"
        "font:12px/16px sans-serif;text-align:center;box-sizing:border-box;border-radius:3px;"
        "background:rgba(255,255,255,.88)}"
        ".site-name.garrison{font-weight:700}"
        ".incident.selected .body{transform:scale(1.35);transform-origin:11px 11px}"
        ".incident.stacked{display:none}.stack{background:none;border:0;cursor:pointer}"
        ".export-title{position:absolute;z-index:1000;top:8px;left:56px;right:300px;background:#fffe;"
        "padding:4px 10px;border-radius:4px;font:13px/1.3 sans-serif}"
        ".export-title h1{font-size:17px;margin:0}"
        ".export-title p{margin:2px 0 0}"
        ".export-legend,.export-list{position:absolute;z-index:1000;right:8px;width:270px;background:#fffe;"
        "border:1px solid #bbb;border-radius:4px;padding:4px 8px;font:12px/1.35 sans-serif;overflow:auto}"
        ".export-legend{top:8px;max-height:34%}.export-list{top:calc(34% + 24px);bottom:24px}"
        ".export-legend h2,.export-list h2{font-size:13px;margin:2px 0}"
        ".export-legend ul{list-style:none;margin:0;padding:0}.export-legend li{margin:2px 0}"
        ".export-legend .legend-head{margin-top:6px;font-weight:600}"
        ".export-legend svg{vertical-align:middle}.swatch{display:inline-block;width:16px;height:10px}"
        ".export-list ol{margin:0;padding-left:18px}.export-list button{font:inherit;text-align:left;"
        "background:#f4f4f4;border:1px solid #999;border-radius:3px;padding:1px 6px;cursor:pointer}"
        ".export-list summary{cursor:pointer;padding:2px 0}.export-list .card{max-height:none}"
        ".country-name{background:none;border:0}"
        ".country-name span{position:absolute;transform:translate(-50%,-50%);"
        "white-space:nowrap;font:600 12px sans-serif;letter-spacing:.12em;color:#5a5a5a;pointer-events:none;"
        "text-shadow:0 0 3px #fff,0 0 3px #fff}"
        # A phone: the map on top, the title, legend and list under it (not over it).
        "@media (max-width:700px){html,body{height:auto!important}"
        ".folium-map{height:62vh!important;position:relative!important}"
        ".export-title,.export-legend,.export-list{position:static;width:auto;max-height:none;margin:8px}"
        ".export-title{padding:4px 2px}.leaflet-popup-content{max-width:calc(100vw - 90px)}"
        ".leaflet-popup .card{max-height:34vh}.leaflet-bottom.leaflet-left{bottom:20px}"
        "body{display:flex;flex-direction:column}.export-title{order:-2}.folium-map{order:-1}}</style>"),
        name="card_css")  # fmt: skip
    root.html.add_child(folium.Element(_chrome(catalog, _years(catalog))), name="export_chrome")
    root.html.add_child(
        folium.Element(f'<script type="application/json" id="export-data">{_json(data)}</script>'),
        name="export_data",
    )
    script = SCRIPT.read_text(encoding="utf-8")
    assert "</script" not in script.lower()
    root.script.add_child(folium.Element(script), name="export_script")  # after folium's map
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


def _styles() -> dict[str, dict[str, Any]]:
    """The region styles by mode and "status|role" (app.export.regions, the map's rule)."""
    statuses = [s for s, _ in STATUS_WORDS]
    return {
        mode: {
            f"{s}|{role}": region_style(s, role == "common", mode)
            for s in statuses
            for role in ("claim", "common")
        }
        for mode in MODES
    }


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


def _region_swatch(status: str, mode: str) -> str:
    """A small square in a region's style (app.export.regions); a footprint darker than on the
    map, where one alone would be too faint to see (as the map's legend)."""
    style = region_style(status, mode == "common", "selected" if mode == "common" else mode)
    if mode == "footprint":
        style = {**style, "fillOpacity": 0.15}
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="12" viewBox="0 0 16 12">'
        f'<rect x="1.5" y="1.5" width="13" height="9" {svg_attributes(style)}/></svg>'
    )


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
    # What a selection shows, each swatch drawn in the map's own region style (as the map's legend).
    selection = "".join(
        f"<li>{_region_swatch(status, mode)} {_e(words)}</li>"
        for status, mode, words in (
            ("inside", "selected", "shaded: the area a source describes, inside the zone"),
            ("inside", "common", "darker: where all its sources can be right at once"),
            ("outside", "selected", "shaded blue: such an area outside the zone"),
            ("uncertain", "selected", "dashed outline: an area that crosses the zone's edge"),
            ("inside", "hover", "outline only: the areas of the incident under the pointer"),
            ("inside", "footprint", "faint grey: the areas of all the other incidents"),
        )
    )
    legend += (
        '<li class="legend-head">Click an incident to see where each source puts it:</li>'
        f"<li>{icon('Explosions/Remote violence', 'inside')} its marker, larger; its card opens</li>"
        f"{selection}"
    )
    # Each incident's card, the same as its marker's, folded under its title; located ones also
    # have a button that shows them on the map.
    items = "".join(
        f'<li><details><summary><b dir="auto">{_e(d.incident.title)}</b><br>{_e(_when(d))}</summary>'
        + (f'<button type="button" data-id="{_e(d.incident.id)}">Show on the map</button>' if d.point else "")
        + f"{card_html(d, catalog, under_its_line=True)}</details></li>"
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
