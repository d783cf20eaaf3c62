"""The exported file in Chromium: text with backslashes, backticks and ``${`` reads back exactly
(folium puts popup and tooltip HTML into JavaScript template literals, which interpret all three)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Browser

from app.cli import main
from app.settings import BUNDLED_DATA

TECHNICALS = "2017-06-08-strike-on-technical-vehicles"
TITLE = r"Files in C:\users\new, `quoted` and ${not.a.substitution} \u0041 \n"


def test_exported_text_reads_back_exactly(browser: Browser, tmp_path: Path) -> None:
    data = tmp_path / "geodata"
    shutil.copytree(BUNDLED_DATA, data, ignore=shutil.ignore_patterns("raw"))
    path = data / "incidents" / f"{TECHNICALS}.yaml"
    text = path.read_text(encoding="utf-8")
    literal = TITLE.replace("'", "''")
    path.write_text(text.replace("title: Coalition strike on pro-regime technical vehicles",
                                 f"title: '{literal}'"), encoding="utf-8")  # fmt: skip
    target = tmp_path / "map.html"
    assert main(["export", str(target), "--data-dir", str(data), "--tile-url", ""]) == 0
    page_text = target.read_text(encoding="utf-8")
    for literal_body in re.findall(r"`([^`]*)`", page_text.split("</style>")[-1]):
        assert "\\" not in literal_body and "${" not in literal_body  # nothing left to interpret
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(target.as_uri())
    page.wait_for_load_state("load")
    texts = page.evaluate(
        "Object.keys(window).filter(k => /^(popup|tooltip)_/.test(k))"
        ".map(k => { const c = window[k].getContent(); return typeof c === 'string' ? c : c.textContent; })"
    )
    context.close()
    assert errors == []  # "Invalid Unicode escape sequence" would stop the whole map
    assert any(TITLE in t for t in texts), [t for t in texts if "C:" in t]
