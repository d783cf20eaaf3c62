"""Output formats of the API: JSON / GeoJSON, CSV and HTML, chosen by ``f=`` or ``Accept``.

``Accept`` is read with its q-values (RFC 9110 §12.5.1) by Werkzeug's parser: the most specific
range that matches an offered type gives its quality, ``q=0`` means "not acceptable", ties go to
the order of ``OFFERS`` (JSON first), and an ``Accept`` that accepts none of them is a 406.

The HTML view is a plain rendering of the same JSON document (every resource has one, which is
what the OGC ``html`` conformance class asks). All text is escaped; only http(s) and same-site
links are made clickable.
"""

from __future__ import annotations

import csv
import functools
import html
import io
from typing import Any, Literal

import orjson
from shapely.geometry import shape
from starlette.requests import Request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from app import budget
from app.errors import ApiError, BadRequest

Format = Literal["json", "csv", "html"]
GEOJSON = "application/geo+json"
JSON = "application/json"
CSV = "text/csv; charset=utf-8"
HTML = "text/html; charset=utf-8"
F_VALUES = {"json": "json", "geojson": "json", "csv": "csv", "html": "html"}
# Media types each resource offers, in the server's order of preference for ties.
OFFERS: dict[str, Format] = {JSON: "json", GEOJSON: "json", "text/html": "html"}
OFFERS_WITH_CSV: dict[str, Format] = {GEOJSON: "json", JSON: "json", "text/html": "html", "text/csv": "csv"}


class NotAcceptable(ApiError):
    status = 406


def negotiate(request: Request, allow_csv: bool = False) -> Format:
    """``f=json|geojson|csv|html`` wins; otherwise the best type for ``Accept``; JSON without one.

    Errors: 400 for an unknown ``f``; 406 (``NotAcceptable``) when ``Accept`` rules out every type.
    """
    f = request.query_params.get("f")
    if f is not None:
        chosen = F_VALUES.get(f.lower())
        if chosen is None or (chosen == "csv" and not allow_csv):
            options = "json, geojson, csv, html" if allow_csv else "json, html"
            raise BadRequest(f"parameter 'f' must be one of {options}", "f")
        return chosen  # type: ignore[return-value]
    return for_accept(request.headers.get("accept", ""), OFFERS_WITH_CSV if allow_csv else OFFERS)


_chosen: dict[tuple[str, tuple[str, ...]], str | None] = {}  # (Accept, offers) -> best offer
MAX_REMEMBERED = 1024  # Accept headers are few; a flood of new ones is parsed, not kept


def for_accept(accept: str, offers: dict[str, Format]) -> Format:
    """The format of the offered media type that ``accept`` (an Accept header) prefers."""
    if not accept.strip():
        return next(iter(offers.values()))
    key = (accept, tuple(offers))
    if key in _chosen:
        best = _chosen[key]
    else:
        best = parse_accept_header(accept, MIMEAccept).best_match(list(offers))
        if len(_chosen) < MAX_REMEMBERED:
            _chosen[key] = best
    if best is None:
        raise NotAcceptable(
            f"none of {', '.join(offers)} is acceptable to header 'Accept' (or use parameter 'f')",
            "Accept",
        )
    return offers[best]


def json_media_type(request: Request) -> str:
    """The media type of a feature or feature collection sent as JSON: ``application/geo+json``,
    or ``application/json`` where ``Accept`` rules GeoJSON out by name or range (``q=0``: not
    acceptable, RFC 9110 §12.5.1) and accepts JSON. The body is the same; a bare
    ``Accept: application/json`` still gets GeoJSON's type, as OGC clients expect."""
    if "f" in request.query_params:
        return GEOJSON
    return _json_type_for(request.headers.get("accept", ""))


@functools.lru_cache(maxsize=MAX_REMEMBERED)
def _json_type_for(accept_header: str) -> str:
    accept = parse_accept_header(accept_header, MIMEAccept)
    ranges = {value.split(";")[0].strip().lower() for value, _ in accept}
    if ranges & {GEOJSON, "application/*", "*/*"} and accept.quality(GEOJSON) == 0 < accept.quality(JSON):
        return JSON
    return GEOJSON


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "; ".join(value)
    elif isinstance(value, dict | list):
        text = orjson.dumps(value).decode()
    else:
        text = str(value)
    # Spreadsheets run cells that start like a formula; keep them text.
    if text[:1] in FORMULA_STARTS and not _is_number(text):
        text = "'" + text
    return text


# OWASP "CSV injection": a cell starting with one of these is run as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    if text != text.strip():
        return False  # float() ignores surrounding blanks; a tab before a number still starts a formula
    try:
        float(text)
    except ValueError:
        return False
    return True


def features_csv(features: list[dict[str, Any]]) -> str:
    """One row per feature: id, lon/lat of its point (or of a point on its surface), WKT, props."""
    columns: list[str] = []
    for feature in features:
        for key in feature["properties"]:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "lon", "lat", "wkt", *columns])
    for feature in features:
        budget.check()
        writer.writerow(csv_cells(feature, columns))
    return out.getvalue()


def csv_cells(feature: dict[str, Any], columns: list[str]) -> list[str]:
    """A feature's row of ``features_csv`` (its properties in ``columns``), cell by cell."""
    geom = feature.get("geometry")
    lon = lat = wkt = ""
    if geom:
        g = shape(geom)
        p = g if g.geom_type == "Point" else g.representative_point()
        lon, lat = f"{p.x:.6f}", f"{p.y:.6f}"
        wkt = g.wkt
    props = feature["properties"]
    return [feature["id"], lon, lat, wkt, *(_csv_cell(props.get(c)) for c in columns)]


def csv_line(cells: list[str]) -> str:
    """Cells as one CSV line (RFC 4180 quoting, CRLF), as ``features_csv`` writes it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def _render_checked(value: Any, depth: int) -> str:
    budget.check()  # a list may hold a thousand features
    return _render(value, depth)


def _link(href: str, text: str) -> str:
    if href.startswith(("http://", "https://", "/")):
        return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'
    return html.escape(text)


def _render(value: Any, depth: int = 0) -> str:
    if isinstance(value, dict):
        if "href" in value and isinstance(value["href"], str):
            label = value.get("title") or value.get("rel") or value["href"]
            return _link(value["href"], str(label))
        if value.get("type") in ("Polygon", "MultiPolygon", "LineString") and depth > 0:
            return f"<i>{html.escape(value['type'])} geometry (see JSON)</i>"
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{_render(v, depth + 1)}</td></tr>"
            for k, v in value.items()
        )
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        if not value:
            return "<i>none</i>"
        return "<ol>" + "".join(f"<li>{_render_checked(v, depth + 1)}</li>" for v in value) + "</ol>"
    if value is None:
        return "<i>null</i>"
    text = str(value)
    if text.startswith(("http://", "https://")):
        return _link(text, text)
    return html.escape(text)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{root}/static/css/api.css"></head><body>
<nav><a href="{root}/">Map</a><a href="{root}/api">API</a>
<a href="{root}/api/collections">Collections</a></nav>
<h1>{title}</h1>
<p>This page shows the JSON document of this URL; add <code>f=json</code> for the document itself.</p>
{body}
</body></html>
"""


def html_page(title: str, document: Any, root: str = "") -> str:
    """The page of ``document``; ``root`` is the path prefix of same-site links (``app.urls.root``)."""
    return PAGE.format(title=html.escape(title), body=_render(document), root=html.escape(root))
