"""Behind a real nginx (Debian's), under the sub-path /tanf/, as TLS terminator (it sends
``X-Forwarded-Proto: https``) and as a cache with nginx's default key
(``$scheme$proxy_host$request_uri``: the client's Host is not in it).

Two deployments, each started as a user would (``at-tanf-map serve``, in its own process):
- links from the request: ``--allowed-hosts`` and ``--forwarded-allow-ips 127.0.0.1``, nginx
  passing the Host and ``X-Forwarded-Prefix``;
- links from ``--public-url``.
Every kind of link must come out under the public base and resolve through nginx, and no cached
answer may carry links to a Host some other client sent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.live_server import free_port
from tests.processes import stop
from tests.test_proxy import assert_all_under, every_link

REPO = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
EVENTS = "/tanf/api/collections/events/items"
PUBLIC = "https://maps.example.org/tanf"

if not Path(NGINX).exists():
    if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
        raise RuntimeError("Debian's nginx is required here: apt-get install nginx")
    pytest.skip("nginx not installed (apt-get install nginx)", allow_module_level=True)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # each worker derives the bundled data: slow on a loaded machine
    while True:
        try:
            if httpx2.get(url, timeout=2).status_code < 500:
                return
        except httpx2.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{process.args} did not start:\n{log.read_text()}")
        time.sleep(0.2)


def _serve(tmp: Path, *flags: str) -> tuple[int, subprocess.Popen[bytes], Path]:
    """``at-tanf-map serve`` on a free loopback port, with these flags and no AT_TANF_* settings."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AT_TANF_")}
    env["PYTHONPATH"] = str(REPO)
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port), "--tile-url", "", *flags],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    _wait_for(f"http://127.0.0.1:{port}/healthz", process, log)
    return port, process, log


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
{user}
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  proxy_cache_path {tmp}/cache-host keys_zone=by_host:1m;
  proxy_cache_path {tmp}/cache-public keys_zone=by_public:1m;

  # Links from the request: the client's Host, and the scheme and prefix this proxy forwards.
  server {{
    listen 127.0.0.1:{port_host};
    location /tanf/ {{
      proxy_pass http://127.0.0.1:{app_host}/;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Prefix /tanf;
      proxy_cache by_host;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
  }}
  # Links from --public-url; nginx sends its default Host ($proxy_host) and nothing forwarded.
  server {{
    listen 127.0.0.1:{port_public};
    location /tanf/ {{
      proxy_pass http://127.0.0.1:{app_public}/;
      proxy_cache by_public;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
  }}
}}
"""


class Deployment:
    def __init__(self, nginx_port: int, public_base: str) -> None:
        self.via_nginx = f"http://127.0.0.1:{nginx_port}"
        self.host = f"127.0.0.1:{nginx_port}"
        self.public_base = public_base

    def client(self, host: str | None = None) -> httpx2.Client:
        headers = {"Host": host} if host else {}
        return httpx2.Client(base_url=self.via_nginx, headers=headers, timeout=10)

    def fetchable(self, href: str) -> str:
        """A link as this test can follow it: through nginx over plain HTTP."""
        return href.replace(self.public_base.removesuffix("/tanf"), self.via_nginx, 1)


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Deployment]]:
    tmp = tmp_path_factory.mktemp("nginx")
    started: list[subprocess.Popen[bytes]] = []
    try:
        app_host, process, _ = _serve(
            tmp, "--allowed-hosts", "127.0.0.1,localhost", "--forwarded-allow-ips", "127.0.0.1"
        )
        started.append(process)
        app_public, process, _ = _serve(tmp, "--public-url", f"{PUBLIC}/")
        started.append(process)
        port_host, port_public = free_port(), free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                tmp=tmp,
                user="user root;" if os.geteuid() == 0 else "",  # the workers write the cache in tmp
                port_host=port_host,
                app_host=app_host,
                port_public=port_public,
                app_public=app_public,
            )
        )
        log = tmp / "nginx-error.log"
        log.touch()
        nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(log)], cwd=tmp)
        started.append(nginx)
        _wait_for(f"http://127.0.0.1:{port_public}/tanf/healthz", nginx, log)
        _wait_for(f"http://127.0.0.1:{port_host}/tanf/healthz", nginx, log)
        yield {
            "host": Deployment(port_host, f"https://127.0.0.1:{port_host}/tanf"),
            "public": Deployment(port_public, PUBLIC),
        }
    finally:
        for process in reversed(started):
            stop(process)


@pytest.mark.parametrize("kind", ["host", "public"])
def test_every_link_is_under_the_public_base_and_resolves_through_nginx(
    deployments: dict[str, Deployment], kind: str
) -> None:
    deployment = deployments[kind]
    with deployment.client() as client:
        links = every_link(client, "/tanf")  # type: ignore[arg-type]
        assert_all_under(links, deployment.public_base)
        assert links["oembed iframe src"].startswith(f"{deployment.public_base}/embed?")
        assert links["items next"].startswith(f"{deployment.public_base}/api/collections/events/items?")
        for kind_of_link, href in links.items():
            response = client.get(deployment.fetchable(href))
            assert response.status_code == 200, (kind_of_link, href, response.text[:300])


def test_the_map_in_chromium_loads_under_the_prefix_and_its_embed_code_uses_the_public_base(
    deployments: dict[str, Deployment],
) -> None:
    """The front end builds its URLs from data-public-url (static/js/urls.js): its requests stay
    under /tanf/ on this site, and the embed code a reader copies names the public base."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
            raise RuntimeError("Debian's Chromium is required here: apt-get install chromium")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    deployment = deployments["host"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--disable-background-networking"])
        try:
            page = browser.new_page()
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{deployment.via_nginx}/tanf/?sel=2017-06-08-strike-on-technical-vehicles")
            page.wait_for_selector("body[data-ready]", timeout=30_000)
            assert page.evaluate("document.body.dataset.ready") == "true", errors
            page.click("#embed-button")
            snippet = page.input_value("#embed-code")
        finally:
            browser.close()
    assert any("/tanf/api/collections/events/items" in url for url in requests), requests
    ours = [url for url in requests if url.startswith(deployment.via_nginx)]
    assert ours and all(url.startswith(f"{deployment.via_nginx}/tanf/") for url in ours), ours
    assert f'src="{deployment.public_base}/embed?' in snippet, snippet
    assert f'src="{deployment.public_base}/embed/host.js"' in snippet, snippet


def test_a_cache_with_the_default_key_never_serves_another_hosts_links(
    deployments: dict[str, Deployment],
) -> None:
    deployment = deployments["host"]
    url = f"{EVENTS}?limit=2"
    with deployment.client("evil.example") as attacker:
        response = attacker.get(url)
        assert response.status_code == 400 and response.headers["cache-control"] == "no-store"
    with deployment.client() as victim:
        first = victim.get(url)
        again = victim.get(url)
    assert (first.status_code, again.status_code) == (200, 200), (first.headers, first.text)
    assert again.headers["x-cache-status"] == "HIT"  # the cache is really in the way
    for response in (first, again):
        assert "evil" not in response.text
        assert_all_under({"self": response.json()["links"][0]["href"]}, deployment.public_base)

    # Two allowed names: Vary: Host keeps their cached copies apart.
    url = f"{EVENTS}?limit=3"
    port = deployment.host.split(":")[1]
    with deployment.client(f"localhost:{port}") as other:
        assert other.get(url).json()["links"][0]["href"].startswith(f"https://localhost:{port}/tanf/")
    with deployment.client() as victim:
        assert victim.get(url).json()["links"][0]["href"].startswith(f"{deployment.public_base}/")
        assert victim.get(url).headers["x-cache-status"] == "HIT"


def test_with_a_public_url_whatever_host_an_attacker_sends_the_cache_keeps_public_links(
    deployments: dict[str, Deployment],
) -> None:
    deployment = deployments["public"]
    url = f"{EVENTS}?limit=4"
    with deployment.client("evil.example") as attacker:
        poisoned = attacker.get(url)
    with deployment.client() as victim:
        served = victim.get(url)
    assert served.headers["x-cache-status"] == "HIT"
    for response in (poisoned, served):
        assert response.status_code == 200 and "evil" not in response.text
        assert response.json()["links"][0]["href"].startswith(f"{PUBLIC}/api/collections/events/items?")
