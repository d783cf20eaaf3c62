"""One self-contained HTML file of the map (folium), for ``at-tanf-map export``.

Leaflet's JavaScript and CSS are inlined from the XStatic-Leaflet package and folium's other CDN
assets are dropped (nothing here needs them), so the file opens from ``file://`` with the network
off and shows everything but the tiles. Folium renders popup and tooltip text as HTML, so every
piece of data text is escaped here, and only http(s) URLs become links.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import folium
import shapely
from branca.element import Figure

from app.data.answer import STATUS_TEXT
from app.data.catalog import Catalog, DerivedIncident
from app.export.svg import LABEL_SIDE, STATUS_COLOURS, ZONE_COLOUR, marker_svg
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
    when = inc.date.start.isoformat() + (f" – {inc.date.last.isoformat()}" if inc.date.end else "")
    more = " ".join(w for w in (d.answer.share, d.answer.place) if w)
    parts = [
        f"<h3>{_e(inc.title)}</h3>",
        f"<p>{_e(when)} ({_e(inc.date.precision)}) · {_e(inc.event_type)} / {_e(inc.sub_event_type)}</p>",
        f'<div class="status status-{_e(d.status)}"><p><b>{_e(d.answer.headline)}</b></p>'
        + (f"<p>{_e(more)}</p>" if more else "")
        + "</div>",
        f"<p>{_e(inc.summary)}</p>",
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
        quote = f"<blockquote>“{_e(c.claim.quote)}”</blockquote>" if c.claim.quote else ""
        claims.append(
            f"<li><b>{_e(c.claim.text)}</b> — {_e(where)}{quote}— {_link(_url(src), src.outlet)}</li>"
        )
    parts.append(f"<p><b>Where, according to each source</b></p><ul>{''.join(claims)}</ul>")
    cites = []
    for cite in inc.sources:
        src = sources[cite.source]
        quote = f"<blockquote>“{_e(cite.quote)}”</blockquote>" if cite.quote else ""
        dated = f" ({src.date})" if src.date else ""
        cites.append(f"<li>{_link(_url(src), src.outlet)}{_e(dated)}{quote}</li>")
    parts.append(f"<p><b>Sources</b></p><ol>{''.join(cites)}</ol>")
    return f'<div class="card" data-id="{_e(inc.id)}">{"".join(parts)}</div>'


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
        catalog.dataset.borders,
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
    for d in catalog.incidents:
        for c in d.claims:
            if c.region is None or c.measure is None:
                continue
            colour = STATUS_COLOURS[c.measure.status]
            dashed = c.measure.status == "uncertain"
            folium.GeoJson(
                to_geojson(shapely.simplify(c.region, DISPLAY_TOLERANCE_DEG), 5),
                style_function=lambda _f, colour=colour, dashed=dashed: {
                    "color": colour,
                    "weight": 1,
                    "opacity": 0.45,
                    "fill": False,
                    "dashArray": "5 4" if dashed else None,
                },
                interactive=False,
            ).add_to(fmap)
    folium.GeoJson(
        to_geojson(zone.polygon),
        name=f"{zone.radius_m / 1000:g} km de-confliction zone (geodesic)",
        style_function=lambda _f: {"color": ZONE_COLOUR, "weight": 2.5, "fill": False},
        interactive=False,
    ).add_to(fmap)
    for site in catalog.dataset.sites.values():
        folium.CircleMarker(
            [site.lat, site.lon], radius=6 if site.kind == "garrison" else 4, color="#111", weight=2,
            fill=True, fill_color="#111" if site.kind == "garrison" else "#fff", fill_opacity=1,
            tooltip=folium.Tooltip(_e(site.name), permanent=True, direction=LABEL_SIDE.get(site.id, "right"),
                                   class_name="site-label"),
        ).add_to(fmap)  # fmt: skip
    for d in catalog.incidents:
        if d.point is None:
            continue
        icon_svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22">'
            f"{marker_svg(11, 11, d.incident.event_type, d.status, 16)}</svg>"
        )
        folium.Marker(
            [d.point[1], d.point[0]],
            icon=folium.DivIcon(
                html=icon_svg, icon_size=(22, 22), icon_anchor=(11, 11), class_name="incident"
            ),
            popup=folium.Popup(card_html(d, catalog), max_width=340),
            tooltip=folium.Tooltip(_e(d.incident.title)),
        ).add_to(fmap)
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
        ".incident{background:none;border:0}.site-label{font-size:11px;padding:1px 4px}</style>"),
        name="card_css")  # fmt: skip
    root.script.add_child(
        folium.Element(  # after folium's own script has made the map
            "window.addEventListener('DOMContentLoaded',function(){"
            f"{fmap.get_name()}.attributionControl"
            ".addAttribution('Borders: Natural Earth (approximate)');});"
        )
    )
    incidents = catalog.dataset.incidents
    first = min((i.date.start.year for i in incidents), default=None)
    last = max((i.date.last.year for i in incidents), default=None)
    years = "" if first is None else f", {first}" if first == last else f", {first}–{last}"
    root.title = f"At Tanf de-confliction zone{years}"
    return fmap


def export_html(catalog: Catalog, target: Path, tile_url: str, tile_attribution: str) -> int:
    """Write the file; returns its size in bytes."""
    page = build_map(catalog, tile_url, tile_attribution).get_root().render()
    target.write_text(page, encoding="utf-8")
    return target.stat().st_size
