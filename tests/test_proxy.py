"""Links are built only from trusted parts of a request (app.proxy, app.urls), in-process.

Every kind of link is collected from a response and checked against the base it must have:
the configured public URL whatever Host a client sends; else an allowed Host, with the scheme and
prefix a trusted proxy forwards, and nothing an untrusted client forwards. The same checks through
a real nginx are in tests/test_nginx_proxy.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.cli import _parser, _settings
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
from tests.api.conftest import assert_problem

EVENTS = "/api/collections/events/items"
EVENT = "2017-06-08-strike-on-technical-vehicles"
PUBLIC = "https://maps.example.org/tanf"


def every_link(client: TestClient, prefix: str = "") -> dict[str, str]:
    """One link of each kind the service builds, by name, fetched through ``client`` (paths
    under ``prefix``, as a proxy that does not strip it would pass them)."""
    links: dict[str, str] = {}

    def rel(doc: dict[str, Any], name: str, kind: str, type_: str | None = None) -> None:
        found = [x["href"] for x in doc["links"] if x["rel"] == name and type_ in (None, x.get("type"))]
        assert found, (name, doc["links"])
        links[kind] = found[0]

    landing = client.get(f"{prefix}/api").json()
    rel(landing, "self", "landing self")
    rel(landing, "service-desc", "service-desc")
    rel(landing, "data", "data")
    for name in ("service-desc", "service-doc"):
        url = next(x["href"] for x in landing["links"] if x["rel"] == name)
        document = client.get(url.replace(urlsplit(url).scheme + "://" + urlsplit(url).netloc, "", 1))
        if name == "service-desc":
            links["service-desc server"] = document.json()["servers"][0]["url"] + "/"
        else:
            for n, href in enumerate(re.findall(r'href="([^"]*)"', document.text)):
                links[f"{n} in service-doc"] = unescape(href)
    html_items = client.get(f"{prefix}{EVENTS}", params={"f": "html", "limit": "1"}).text
    for n, href in enumerate(re.findall(r'href="(/[^"]*)"', html_items)):  # the sources link elsewhere
        links[f"{n} in an HTML page of the API"] = unescape(href)
    rel(client.get(f"{prefix}/api/collections/events").json(), "items", "collection items")
    page = client.get(f"{prefix}{EVENTS}", params={"limit": "2", "in_zone": "inside"}).json()
    rel(page, "self", "items self")
    rel(page, "next", "items next")
    rel(page, "alternate", "items alternate", "text/html")
    rel(client.get(f"{prefix}{EVENTS}/{EVENT}").json(), "collection", "item collection")
    for name in ("/", "/embed"):
        html = client.get(f"{prefix}{name}", params={"sel": EVENT}).text
        discovery = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html)
        assert discovery, html[:500]
        links[f"discovery {name}"] = unescape(discovery.group(1))
        public = re.search(r'data-public-url="([^"]*)"', html)
        assert public, html[:500]
        links[f"data-public-url {name}"] = unescape(public.group(1)) + "/"
        for n, asset in enumerate(re.findall(r'(?:src|href)="(/[^"]*)"', html)):
            links[f"asset {n} of {name}"] = unescape(asset)
    oembed_url = links["discovery /"]
    oembed = client.get(f"{prefix}/oembed?{urlsplit(oembed_url).query}").json()
    src = re.search(r'<iframe[^>]* src="([^"]+)"', oembed["html"])
    quoted = re.search(r'<blockquote[^>]*><a href="([^"]+)"', oembed["html"])
    assert src and quoted, oembed["html"]
    links["oembed iframe src"] = unescape(src.group(1))
    links["oembed blockquote link"] = unescape(quoted.group(1))
    links["oembed provider_url"] = oembed["provider_url"]
    links["oembed thumbnail_url"] = oembed["thumbnail_url"]
    links["url in the discovery link"] = parse_qs(urlsplit(oembed_url).query)["url"][0]
    return links


def assert_all_under(links: dict[str, str], base: str) -> None:
    """Absolute links start with ``base``; same-site paths with ``base``'s path."""
    path = urlsplit(base).path
    for kind, href in links.items():
        expected = base if href.startswith(("http://", "https://")) else path
        assert href == expected or href.startswith(expected.rstrip("/") + "/"), (kind, href, expected)


@pytest.fixture(scope="module")
def public_app() -> Iterator[TestClient]:
    settings = Settings(data_dir=BUNDLED_DATA, public_url=f"{PUBLIC}/", allowed_hosts=[])
    with TestClient(create_app(settings), base_url="http://evil.example:8000") as client:
        yield client


@pytest.mark.parametrize("prefix", ["", "/tanf"])
def test_with_a_public_url_every_link_is_under_it_whatever_the_host(
    public_app: TestClient, prefix: str
) -> None:
    """A proxy may strip the prefix or pass it on; a client may send any Host."""
    links = every_link(public_app, prefix)
    assert_all_under(links, PUBLIC)
    assert links["oembed iframe src"].startswith(f"{PUBLIC}/embed?sel={EVENT}")
    assert links["url in the discovery link"] == f"{PUBLIC}/?sel={EVENT}"
    assert links["asset 0 of /"].startswith("/tanf/static/")
    assert not any("evil" in href for href in links.values())


def test_with_a_public_url_the_host_is_not_checked_nor_varied(public_app: TestClient) -> None:
    response = public_app.get("/api", headers={"Host": "anything.example"})
    assert response.status_code == 200
    assert "host" not in response.headers["vary"].lower()


def test_oembed_knows_only_urls_under_the_public_url(public_app: TestClient) -> None:
    def status(url: str) -> int:
        return public_app.get("/oembed", params={"url": url}).status_code

    assert status(f"{PUBLIC}/") == status(f"{PUBLIC}/embed?list=1") == status(PUBLIC) == 200
    for foreign in (
        "http://evil.example:8000/",
        "https://maps.example.org/",
        "https://maps.example.org/tanfx/",
    ):
        assert status(foreign) == 404, foreign


@pytest.fixture(scope="module")
def host_app() -> Iterator[TestClient]:
    """No public URL: links from the Host, which must be allowed; the default allow-list."""
    with TestClient(create_app(Settings(data_dir=BUNDLED_DATA, allowed_hosts=[]))) as client:
        yield client


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "testserver",
        "127.0.0.2",
        "localhost.evil.example",
        "a b",
        "",
        "[::1<b>]",
        "localhost:x",
    ],
)
def test_a_host_that_is_not_allowed_gets_400(host_app: TestClient, host: str) -> None:
    for path in ("/api", EVENTS, "/", "/embed", "/oembed?url=http://evil.example/", "/static/js/app.js"):
        response = host_app.get(path, headers={"Host": host})
        body = assert_problem(response, 400)
        assert "Host" in body["detail"]
        assert response.headers["cache-control"] == "no-store"  # a cache must not keep it
        assert response.headers["x-content-type-options"] == "nosniff"  # as every error (issue 17)
        assert host not in response.text or not host


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:9", "[::1]:8000", "LOCALHOST"])
def test_the_loopback_names_are_allowed_by_default(host_app: TestClient, host: str) -> None:
    response = host_app.get("/api", headers={"Host": host})
    assert response.status_code == 200
    assert response.json()["links"][0]["href"].lower() == f"http://{host.lower()}/api"
    assert "Host" in response.headers["vary"]


def test_health_answers_any_host(host_app: TestClient) -> None:
    """Load balancers and probes ask by address; /healthz carries no link."""
    assert host_app.get("/healthz", headers={"Host": "10.1.2.3:8000"}).status_code == 200


def test_an_allow_list_with_subdomains() -> None:
    settings = Settings(data_dir=BUNDLED_DATA, allowed_hosts=["maps.example.org", "*.news.example"])
    with TestClient(create_app(settings)) as client:
        assert client.get("/api", headers={"Host": "maps.example.org"}).status_code == 200
        assert client.get("/api", headers={"Host": "a.news.example:8080"}).status_code == 200
        assert client.get("/api", headers={"Host": "news.example"}).status_code == 400
        assert client.get("/api", headers={"Host": "evilnews.example"}).status_code == 400
        assert client.get("/api", headers={"Host": "localhost"}).status_code == 400


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/tanf/", "X-Forwarded-For": "203.0.113.9"}


def _forwarded_app(client_ip: str) -> TestClient:
    settings = Settings(data_dir=BUNDLED_DATA, allowed_hosts=["maps.example.org"],
                        forwarded_allow_ips=["10.0.0.0/8"])  # fmt: skip
    return TestClient(create_app(settings), base_url="http://maps.example.org", client=(client_ip, 4000))


def test_forwarded_headers_from_a_trusted_proxy_make_the_links() -> None:
    with _forwarded_app("10.0.0.7") as client:
        client.headers.update(FORWARDED)
        assert_all_under(every_link(client), PUBLIC)
        assert_all_under(every_link(client, "/tanf"), PUBLIC)


def test_forwarded_headers_from_anyone_else_are_ignored() -> None:
    with _forwarded_app("192.0.2.1") as client:
        client.headers.update(FORWARDED)
        assert_all_under(every_link(client), "http://maps.example.org")


def test_without_forwarded_allow_ips_nobody_is_believed() -> None:
    settings = Settings(data_dir=BUNDLED_DATA, allowed_hosts=["maps.example.org"])
    with TestClient(
        create_app(settings), base_url="http://maps.example.org", client=("127.0.0.1", 1)
    ) as client:
        client.headers.update(FORWARDED)
        assert client.get("/api").json()["links"][0]["href"] == "http://maps.example.org/api"


@pytest.mark.parametrize(
    "prefix", ["tanf", "/a/../b", "/x?y", "/<script>", "//evil.example", "/a'b", "/%2e%2e"]
)
def test_a_bad_prefix_from_a_trusted_proxy_is_400(prefix: str) -> None:
    with _forwarded_app("10.0.0.7") as client:
        response = client.get("/api", headers={"X-Forwarded-Prefix": prefix})
        assert_problem(response, 400)
        assert "X-Forwarded-Prefix" in response.json()["detail"]


@pytest.mark.parametrize(
    "value",
    [
        "maps.example.org/tanf",
        "ftp://maps.example.org/",
        "https:///x",
        "https://a.example/?q=1",
        "https://a.example/a b",
    ],
)
def test_a_public_url_must_be_an_http_url(value: str) -> None:
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url=value)


def test_settings_from_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = _parser().parse_args(
        ["serve", "--public-url", "https://Maps.Example.org/tanf",
         "--allowed-hosts", "a.example, *.b.example", "--forwarded-allow-ips", "127.0.0.1,10.0.0.0/8"]
    )  # fmt: skip
    settings = _settings(args)
    assert settings.public_url == "https://maps.example.org/tanf/"
    assert settings.allowed_hosts == ["a.example", "*.b.example"]
    assert settings.forwarded_allow_ips == ["127.0.0.1", "10.0.0.0/8"]
    monkeypatch.setenv("AT_TANF_PUBLIC_URL", "http://maps.example.org")
    monkeypatch.setenv("AT_TANF_ALLOWED_HOSTS", "maps.example.org")
    monkeypatch.setenv("AT_TANF_FORWARDED_ALLOW_IPS", "*")
    settings = _settings(_parser().parse_args(["serve"]))
    assert (settings.public_url, settings.allowed_hosts, settings.forwarded_allow_ips) == (
        "http://maps.example.org/", ["maps.example.org"], ["*"])  # fmt: skip
    # what workers of `serve --workers N` get back
    assert Settings.model_validate_json(settings.model_dump_json()) == settings
    with pytest.raises(ValueError, match="forwarded_allow_ips"):
        Settings(forwarded_allow_ips=["proxy.example"])
    with pytest.raises(ValueError, match="allowed_hosts"):
        Settings(allowed_hosts=["a/b"])
