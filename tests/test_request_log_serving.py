"""The request log under a real server (app.logs): one JSON line per request whether the app is
started by ``at-tanf-map serve`` or ``python -m uvicorn app.main:app``; a stderr nobody reads
does not stop the server; and the default number of workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from app.cli import MANY_INCIDENTS, default_workers
from app.settings import Settings
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def start(args: list[str], port: int, stderr: int | object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AT_TANF_TILE_URL": ""}
    process = subprocess.Popen([sys.executable, "-m", *args, "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=stderr)  # type: ignore[arg-type]  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return process
        except httpx2.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{args} did not start")


@pytest.mark.parametrize(
    "args", [["uvicorn", "app.main:app"], ["app", "serve", "--workers", "1"]], ids=["uvicorn", "serve"]
)
def test_one_json_line_per_request_however_started(args: list[str], tmp_path: Path) -> None:
    port = free_port()
    with (tmp_path / "stderr").open("wb") as err:
        process = start(args, port, err)
        try:
            httpx2.get(f"http://127.0.0.1:{port}/api/collections?f=json")
            time.sleep(0.5)  # the writer thread writes every 50 ms
        finally:
            process.terminate()
            process.wait(timeout=20)
    text = (tmp_path / "stderr").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert {"method": "GET", "path": "/api/collections", "query": "f=json"}.items() <= next(
        line for line in lines if line.get("path") == "/api/collections"
    ).items()
    assert '"GET /api/collections' not in text  # uvicorn's own access line is off


def test_a_stderr_nobody_reads_does_not_stop_the_server() -> None:
    port = free_port()
    process = start(["app", "serve", "--workers", "1"], port, subprocess.PIPE)  # the pipe is never read
    try:
        with httpx2.Client(timeout=10) as client:
            padding = "x" * 150  # ~300 bytes a line: 64 KB of pipe is full after ~220 requests
            for n in range(600):
                client.get(f"http://127.0.0.1:{port}/healthz?n={n}&pad={padding}")
            started = time.monotonic()
            assert client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            assert time.monotonic() - started < 5
    finally:
        process.kill()
        process.wait(timeout=20)
        process.stderr.close()  # type: ignore[union-attr]


def test_workers_default_to_one_per_core_unless_each_would_derive_a_large_dataset(tmp_path: Path) -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_workers(Settings(), 36)[0] == cores
    assert default_workers(Settings(cache_dir=tmp_path), MANY_INCIDENTS * 10)[0] == cores
    many = default_workers(Settings(), MANY_INCIDENTS + 1)
    assert many[0] == 1 or cores == 1
    assert "cache-dir" in many[1] or cores == 1
