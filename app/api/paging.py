"""The links of an items page (OGC 17-069r4, 7.15.8: ``self``, ``alternate``, ``next``, ``prev``).

Every link repeats the request's own query (its parameters in their order, encoded once) but for
``offset``, ``after`` and ``f``, which each link sets itself; a ``limit`` larger than the server's
largest page is written as the page size actually served (the standard says such a limit is not an
error but is read as the maximum, so a link that repeated it would promise pages it never gets).
``next`` (when more match than this page shows) starts after the page's last feature: keyset
paging, so a deep page costs what the first does (``Store.page``). ``prev`` goes back one page by
offset; from past the last match it goes to the last page that holds any.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from app import urls
from app.api import formats

SET_BY_EACH_LINK = ("offset", "after", "f")


def page_links(
    request: Request, offset: int, limit: int, last: str | None, matched: int | None
) -> list[dict[str, str]]:
    """self, CSV, HTML, next and prev links of the page that starts at ``offset`` (features), holds
    at most ``limit`` features and ends with the feature whose id is ``last`` (None: no next page);
    ``matched`` is ``numberMatched`` (None where not counted)."""
    params = request.query_params
    kept = urlencode(
        [(k, str(limit) if k == "limit" else v) for k, v in params.multi_items() if k not in SET_BY_EACH_LINK]
    )
    page = urls.link(request, urls.route_path(request), kept) + ("&offset=" if kept else "?offset=")
    here = f"{page}{offset}" + ("" if "after" not in params else "&" + urlencode({"after": params["after"]}))
    links = [
        {"href": here, "rel": "self", "type": formats.GEOJSON, "title": "This page"},
        {"href": f"{here}&f=csv", "rel": "alternate", "type": "text/csv", "title": "As CSV"},
        {"href": f"{here}&f=html", "rel": "alternate", "type": "text/html", "title": "As HTML"},
    ]
    if last is not None:
        href = f"{page}{offset + limit}&{urlencode({'after': last})}"
        links.append({"href": href, "rel": "next", "type": formats.GEOJSON, "title": "Next page"})
    if offset > 0:
        back = offset - limit if matched is None or offset < matched else (matched - 1) // limit * limit
        href = f"{page}{max(0, back)}"
        links.append({"href": href, "rel": "prev", "type": formats.GEOJSON, "title": "Previous page"})
    return links
