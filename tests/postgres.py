"""A real PostgreSQL cluster with PostGIS for the tests: initdb and pg_ctl in a temporary
directory, listening on 127.0.0.1 on a free port, run as an unprivileged user (PostgreSQL refuses
to run as root, and CI runs as root), stopped at the end.

Debian's ``postgresql`` and ``postgis`` packages (README, "Run it"); where they are missing the
tests that need them skip with that message, and fail under ``AT_TANF_REQUIRE_INTEROP=1`` (CI).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MISSING = (
    "PostgreSQL with PostGIS is not installed (apt-get install postgresql postgis; "
    "pip install -e '.[test]' for psycopg)"
)


def _bin_dir() -> Path | None:
    """The newest Debian PostgreSQL server binaries that have PostGIS beside them."""
    for bin_dir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        version = Path(bin_dir).parent.name
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(bin_dir)
    return None


def missing_or_fail() -> None:
    """Skip (or fail, when interoperability is required) for want of PostgreSQL and PostGIS."""
    if os.environ.get("AT_TANF_REQUIRE_INTEROP"):
        pytest.fail(MISSING)
    pytest.skip(MISSING)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run_as(user: str | None) -> dict[str, object]:
    return {} if user is None else {"user": user, "group": pwd.getpwnam(user).pw_gid}


class Cluster:
    """A running cluster: ``database`` makes a fresh database with PostGIS, ``loaded`` one holding a
    data directory (``at-tanf-map load``'s work), once per directory."""

    def __init__(self, port: int, pg_ctl: list[object], as_user: dict[str, object]) -> None:
        self.port = port
        self._loaded: dict[Path, str] = {}
        self._pg_ctl, self._as_user = pg_ctl, as_user  # pg_ctl -D … -o … -l …, and as whom

    def stop(self) -> None:
        """Stop the server as an operator does (``pg_ctl stop -m fast``: sessions ended)."""
        subprocess.run([*self._pg_ctl, "-m", "fast", "-w", "stop"], check=True, capture_output=True,
                       **self._as_user)  # type: ignore[call-overload]  # fmt: skip

    def start(self) -> None:
        """Start it again, on the same port, and wait until it takes connections."""
        subprocess.run([*self._pg_ctl, "-w", "start"], check=True, capture_output=True, **self._as_user)  # type: ignore[call-overload]

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def database(self, postgis: bool = True, owner: str | None = None) -> str:
        """A new database (``postgis``: with the extension; ``owner``: a role of ``role``'s, whose
        URL it returns, else the superuser's), as ``createdb`` and an administrator make it."""
        import psycopg

        name = f"at_tanf_{len(self._loaded)}_{os.urandom(4).hex()}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}{f' OWNER {owner}' if owner else ''}")  # type: ignore[arg-type]  # names made here
        if postgis:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION postgis")
        return self.url(name, owner or "postgres")

    def role(self) -> str:
        """A new login role that is not a superuser (trust authentication: no password)."""
        import psycopg

        name = f"loader_{os.urandom(4).hex()}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER")  # type: ignore[arg-type]  # a name made here
        return name

    def loaded(self, data_dir: Path) -> str:
        from app.data.pg_load import load

        if data_dir not in self._loaded:
            url = self.database()
            load(data_dir, url)
            self._loaded[data_dir] = url
        return self._loaded[data_dir]


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A running cluster on 127.0.0.1 (a free port), stopped and removed at the end."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing_or_fail()
    bin_dir = _bin_dir()
    if bin_dir is None:
        missing_or_fail()
    assert bin_dir is not None
    user = "nobody" if os.geteuid() == 0 else None
    home = Path(tempfile.mkdtemp(prefix="at-tanf-pg-"))
    if user is not None:
        os.chmod(home, 0o755)
        shutil.chown(home, user)
    data, port = home / "data", free_port()
    as_user = _run_as(user)
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, capture_output=True, **as_user)  # type: ignore[call-overload]  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {home} -c fsync=off -c full_page_writes=off"
    pg_ctl: list[object] = [bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", home / "log"]
    running = Cluster(port, pg_ctl, as_user)
    running.start()
    try:
        yield running
    finally:
        from app.data import pg_store

        pg_store.close_pools(f"@127.0.0.1:{port}/")  # this cluster's: another's may still serve
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, **as_user)  # type: ignore[call-overload]  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)
