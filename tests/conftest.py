from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.settings import BUNDLED_DATA

TESTS = Path(__file__).resolve().parent
RESEARCH = TESTS / "data" / "research"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled data directory (without the raw inputs)."""
    target = tmp_path / "geodata"
    shutil.copytree(BUNDLED_DATA, target, ignore=shutil.ignore_patterns("raw"))
    return target
