"""A built wheel works on its own: installed without ``-e`` into a fresh virtual environment, it
serves the map page, its static assets and the bundled data.

The wheel is built from a copy of the repository's files (what git tracks, plus new files it does
not ignore), so nothing in the work tree outside the package can stand in for a missing file.
The environment sees the machine's packages (``--system-site-packages``, and the packages of the
venv the tests run from: the dependencies are not downloaded again), but the project itself comes
only from the wheel, which the test checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.data.loader import load_dataset
from app.settings import BUNDLED_DATA
from tests.live_server import free_port

REPO = Path(__file__).resolve().parents[1]


def _project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env() -> dict[str, str]:
    """The environment of a user who has only the installed package: no PYTHONPATH, no settings."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("AT_TANF_")}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed (not editable)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    for name in _project_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", source, cwd=root)
    (wheel,) = (root / "dist").glob("at_tanf_map-*.whl")
    env_dir = root / "venv"
    _run(sys.executable, "-m", "venv", "--system-site-packages", env_dir, cwd=root)
    if sys.prefix != sys.base_prefix:
        # Run from a venv (the README's way), ``--system-site-packages`` sees the base Python's
        # packages, not this venv's: its site-packages go on the path by a .pth (a path only: the
        # .pth files in it, among them this checkout's editable install, are not read).
        paths = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
        site = env_dir / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        (site / "outer-venv.pth").write_text("\n".join(sorted(paths)) + "\n", encoding="utf-8")
    _run(env_dir / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", wheel, cwd=root)
    shutil.rmtree(source)  # the installed package must not find anything left in the copy
    return env_dir


def test_the_package_and_its_data_come_from_the_wheel(venv: Path) -> None:
    code = "import app, app.bundled as b; print(app.__file__); print(b.BUNDLED_DATA); print(b.STATIC_DIR)"
    lines = _run(venv / "bin" / "python", "-c", code, cwd=venv, env=_clean_env()).splitlines()
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert [Path(line) for line in lines] == [
        site / "app" / "__init__.py",
        site / "app" / "geodata",
        site / "app" / "static",
    ]
    out = _run(venv / "bin" / "at-tanf-map", "validate", cwd=venv, env=_clean_env())
    incidents = len(load_dataset(BUNDLED_DATA).incidents)
    assert out.startswith(f"OK {site / 'app' / 'geodata'}: {incidents} incidents"), out


@pytest.fixture(scope="module")
def served(venv: Path) -> Iterator[str]:
    port = free_port()
    env = {**_clean_env(), "AT_TANF_TILE_URL": ""}  # nothing leaves localhost
    log = venv / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [venv / "bin" / "at-tanf-map", "serve", "--port", str(port)],
            cwd=venv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a start under a load of 20 on 2 cores took over 60 s
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the installed server did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers["content-type"], r.read()


def test_the_installed_server_serves_the_map_its_assets_and_the_data(served: str) -> None:
    status, content_type, page = _get(f"{served}/")
    assert status == 200 and content_type.startswith("text/html")
    html = page.decode()
    assert "At Tanf" in html
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html))
    assert any(a.endswith("map.css") for a in assets) and any(a.endswith(".js") for a in assets), assets
    for asset in sorted(assets):
        status, _, body = _get(f"{served}{asset}")
        assert status == 200 and body, asset
    status, content_type, script = _get(f"{served}/static/js/app.js")
    assert content_type.startswith("text/javascript") and b"import" in script

    status, content_type, body = _get(f"{served}/api/collections/events/items?limit=1000")
    assert content_type == "application/geo+json"
    events = json.loads(body)
    assert events["numberReturned"] == len(load_dataset(BUNDLED_DATA).incidents) > 0
    status, content_type, _ = _get(f"{served}/embed")
    assert status == 200 and content_type.startswith("text/html")
