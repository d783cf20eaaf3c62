"""Where the files that ship with the code are: the bundled dataset, the front end, the templates.

In an installed wheel they are package data inside ``app/`` (``geodata/`` and ``static/`` are
mapped to ``app/geodata`` and ``app/static`` by ``setup.py``); in a source checkout or an
editable install they sit beside ``app/`` at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """``app/<name>`` when installed from a wheel, else ``<repository>/<name>``."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


BUNDLED_DATA = _shipped("geodata")
STATIC_DIR = _shipped("static")
TEMPLATES_DIR = PACKAGE_DIR / "web" / "templates"
