from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.settings import BUNDLED_DATA

# Starlette's TestClient sends "Host: testserver"; the service answers only to the Hosts it is
# told (app.proxy), so the tests allow that name beside the loopback defaults. Tests of the
# defaults pass allowed_hosts themselves (tests/test_proxy.py).
os.environ.setdefault("AT_TANF_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1,::1")

TESTS = Path(__file__).resolve().parent
RESEARCH = TESTS / "data" / "research"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled data directory (without the raw inputs)."""
    target = tmp_path / "geodata"
    shutil.copytree(BUNDLED_DATA, target, ignore=shutil.ignore_patterns("raw"))
    return target
