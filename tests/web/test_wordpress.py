"""The map pasted into a real WordPress post (Debian's wordpress 6.1), read in Chromium.

Two ways WordPress embeds a URL: a provider the site registers (``wp_oembed_add_provider``: the
html is used as is) and discovery (WordPress reads the page's oEmbed ``<link>``, sanitises the
html with ``wp_filter_oembed_result`` and sandboxes the frame). In both, the post's body is the
map's address on its own line, and the reader must see the map, at the height it reports, and
be taken to the full map by its link.

WordPress refuses to fetch from loopback addresses and from ports other than 80, 443 and 8080.
The test site's must-use plugin allows the two map servers' 127.0.0.1 ports; that is this test's
setup, not something a deployment on a public host needs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, Page

from app.main import create_app
from app.settings import Settings
from tests.live_server import serve
from tests.web.conftest import ARTIFACTS, wait_until
from tests.web.wordpress_site import Site, missing, wordpress_site

REASON = missing()
if REASON:
    if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
        raise RuntimeError(f"WordPress is required here: {REASON}")
    pytest.skip(REASON, allow_module_level=True)

# The same view in both posts; the list makes the embed taller than WordPress's first frame.
VIEW = "list=1&status=inside"


def site_plugin(registered: str, discovered: str) -> str:
    """PHP of the test site's must-use plugin."""
    ports = ", ".join(url.rsplit(":", 1)[1] for url in (registered, discovered))
    pattern = registered.replace(".", "\\\\.")
    return (
        "<?php\n"
        "// Test setup: let WordPress fetch oEmbed from the map servers on 127.0.0.1.\n"
        "add_filter('http_request_host_is_external', function ($external, $host) {\n"
        "    return $external || '127.0.0.1' === $host;\n"
        "}, 10, 2);\n"
        f"add_filter('http_allowed_safe_ports', fn ($ports) => array_merge($ports, [{ports}]));\n"
        "// What a newsroom adds to trust the map: WordPress then uses its html as is.\n"
        f"wp_oembed_add_provider('#^{pattern}/.*#i', '{registered}/oembed', true);\n"
    )


@pytest.fixture(scope="module")
def maps() -> Iterator[dict[str, str]]:
    """Two servers of the map: one WordPress knows as a provider, one it must discover."""
    with serve(create_app(Settings(tile_url=""))) as registered:
        with serve(create_app(Settings(tile_url=""))) as discovered:
            yield {"registered": registered, "discovered": discovered}


@pytest.fixture(scope="module")
def site(maps: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    plugin = site_plugin(maps["registered"], maps["discovered"])
    with wordpress_site(tmp_path_factory.mktemp("wordpress"), plugin) as wordpress:
        version = wordpress.php(
            "require '/usr/share/wordpress/wp-load.php';\necho get_bloginfo('version');\n"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "wordpress-version.txt").write_text(f"{version}\n", encoding="utf-8")
        yield wordpress


@pytest.fixture(scope="module")
def posts(site: Site, maps: dict[str, str]) -> dict[str, str]:
    return {
        "registered": site.post(
            "Registered provider",
            f"<p>Text before the map.</p>\n\n{maps['registered']}/embed?{VIEW}\n\n<p>Text after.</p>",
        ),
        "discovered": site.post(
            "Discovered provider",
            f"<p>Text before the map.</p>\n\n{maps['discovered']}/?{VIEW}\n\n<p>Text after.</p>",
        ),
    }


def map_frame(page: Page, map_url: str) -> Frame:
    page.locator(f"iframe[src^='{map_url}/embed?']").wait_for(state="attached", timeout=20_000)
    frame = next(f for f in page.frames if f.url.startswith(f"{map_url}/embed?"))
    frame.wait_for_selector("body[data-ready='true']", state="attached", timeout=20_000)
    return frame


def open_post(browser: Browser, post_url: str, map_url: str) -> tuple[BrowserContext, Page, Frame]:
    """The post at 1280x900, with the map's frame loaded in it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(post_url)
    return context, page, map_frame(page, map_url)


@pytest.mark.parametrize("path", ["registered", "discovered"])
def test_a_post_with_the_maps_address_shows_the_map_at_its_height(
    browser: Browser, maps: dict[str, str], posts: dict[str, str], path: str
) -> None:
    map_url = maps[path]
    context, page, frame = open_post(browser, posts[path], map_url)
    iframe = page.locator(f"iframe[src^='{map_url}/embed?']")
    assert frame.locator(".leaflet-marker-icon.incident-icon").count() > 0  # the map loaded its data
    sandbox = iframe.get_attribute("sandbox")
    assert sandbox == ("allow-scripts" if path == "discovered" else None)  # the two paths really differ
    # wp-embed.js ran: it shows the frame, hides the blockquote and sets the reported height
    # (WordPress clamps it to 200-1000 px).
    wait_until(page, "!document.querySelector('iframe.wp-embedded-content').hasAttribute('style')")
    expected = min(1000, max(200, frame.evaluate("document.documentElement.scrollHeight")))
    wait_until(page, f"document.querySelector('iframe.wp-embedded-content').height == '{expected}'")
    assert expected > 750  # taller than the frame oEmbed first asked for: it really resized
    assert page.locator("blockquote.wp-embedded-content").evaluate("b => getComputedStyle(b).display") == (
        "none"
    )
    box = iframe.bounding_box()
    assert box is not None and round(box["height"]) == expected and box["width"] >= 400
    assert iframe.evaluate("f => getComputedStyle(f).borderTopWidth") == "0px"  # frameborder="0"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"wordpress-{path}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("path", ["registered", "discovered"])
def test_open_the_full_map_leaves_the_article_for_the_map(
    browser: Browser, maps: dict[str, str], posts: dict[str, str], path: str
) -> None:
    """In WordPress's sandbox no popup may open: WordPress follows the embed's link message."""
    map_url = maps[path]
    context, page, frame = open_post(browser, posts[path], map_url)
    wait_until(page, "!document.querySelector('iframe.wp-embedded-content').hasAttribute('style')")
    frame.locator("#full-map").click()
    page.wait_for_url(f"{map_url}/?*", timeout=15_000)
    assert "status=inside" in page.url
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)
    assert len(context.pages) == 1
    context.close()


@pytest.mark.parametrize("path", ["registered", "discovered"])
def test_the_block_editor_previews_the_map(site: Site, maps: dict[str, str], path: str) -> None:
    """What the block editor asks when the address is pasted: WordPress's oEmbed proxy
    (``/wp-json/oembed/1.0/proxy``, for a user who may edit posts), answered in-process."""
    map_url = maps[path]
    answer = json.loads(
        site.php(
            "require '/usr/share/wordpress/wp-load.php';\n"
            "wp_set_current_user(1);\n"
            "$request = new WP_REST_Request('GET', '/oembed/1.0/proxy');\n"
            "$request->set_query_params(['url' => $argv[1], 'maxwidth' => 600]);\n"
            "$response = rest_do_request($request);\n"
            "echo wp_json_encode(['status' => $response->get_status(), 'data' => $response->get_data()]);\n",
            f"{map_url}/?from=2017-06-01&to=2017-06-30",
        )
    )
    assert answer["status"] == 200, answer
    data = answer["data"]
    assert data["type"] == "rich" and data["provider_name"] == "At Tanf zone map"
    html = data["html"]
    assert html.startswith("<blockquote") and html.count("<iframe") == 1
    assert f'src="{map_url}/embed?from=2017-06-01' in html.replace("&#038;", "&").replace("&amp;", "&")
    assert ('sandbox="allow-scripts"' in html) == (path == "discovered")


def test_the_block_editor_embeds_the_map_and_it_fits_a_phone(
    browser: Browser, site: Site, maps: dict[str, str]
) -> None:
    """The block editor in Chromium: an Embed block with the map's address (what the editor makes
    of an https address pasted on its own; WordPress 6.1's paste turns an http one into a
    paragraph, so the block is made directly) previews the map through WordPress's oEmbed proxy
    over HTTP, is published, and the post shows the map within a 375 px phone's width."""
    map_url = maps["discovered"]
    site.set_password("a-test-password")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{site.url}/wp-login.php")
    page.fill("#user_login", "editor")
    page.fill("#user_pass", "a-test-password")
    page.click("#wp-submit")
    page.wait_for_url("**/wp-admin/**", timeout=60_000)
    page.goto(f"{site.url}/wp-admin/post-new.php")
    page.wait_for_function("() => window.wp && wp.data && wp.blocks && wp.data.select('core/editor')",
                           timeout=60_000)  # fmt: skip
    page.evaluate(
        """(url) => {
            wp.data.dispatch('core/editor').editPost({title: 'From the block editor', status: 'publish'});
            wp.data.dispatch('core/block-editor').insertBlocks([wp.blocks.createBlock('core/embed', {url})]);
        }""",
        f"{map_url}/?{VIEW}",
    )
    # The preview came back: WordPress recognised the provider and sandboxed the map in the editor.
    page.wait_for_function(
        "() => wp.data.select('core/block-editor').getBlocks().some(b => b.name === 'core/embed'"
        " && b.attributes.providerNameSlug === 'at-tanf-zone-map')",
        timeout=60_000,
    )
    page.evaluate("() => wp.data.dispatch('core/editor').savePost()")
    page.wait_for_function(
        "() => !wp.data.select('core/editor').isSavingPost()"
        " && wp.data.select('core/editor').getCurrentPost().status === 'publish'",
        timeout=60_000,
    )
    link = page.evaluate("() => wp.data.select('core/editor').getCurrentPost().link")
    context.close()

    phone = browser.new_context(viewport={"width": 375, "height": 800})
    page = phone.new_page()
    page.goto(link)
    frame = map_frame(page, map_url)
    assert frame.locator(".leaflet-marker-icon.incident-icon").count() > 0
    wait_until(page, "!document.querySelector('iframe.wp-embedded-content').hasAttribute('style')")
    box = page.locator(f"iframe[src^='{map_url}/embed?']").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing runs off the side
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "wordpress-block-editor-375.png"), full_page=True)
    phone.close()
