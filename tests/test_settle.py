"""A serving process, once its data is loaded, hands the GIL over within 1 ms and keeps what it
built at start-up out of the garbage collector's full collections (app.main.settle_process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import gc, sys, time
from fastapi.testclient import TestClient
from app.main import create_app
from app.settings import BUNDLED_DATA, Settings
before = gc.get_freeze_count()
with TestClient(create_app(Settings(data_dir=BUNDLED_DATA))) as client:
    assert client.get("/healthz").status_code == 200
    print(before, gc.get_freeze_count(), sys.getswitchinterval())
"""


def test_after_start_up_the_objects_are_frozen_and_the_switch_interval_short() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    before, after, interval = int(out[0]), int(out[1]), float(out[2])
    assert before == 0 and after > 10_000  # the app and the dataset's objects
    assert interval == 0.001
