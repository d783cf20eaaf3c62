"""Setting the PostGIS store up as the README says, on a real PostgreSQL cluster: ``load`` on a
database made by ``createdb`` alone (it creates the extension), a user who may not create it told
in one line what an administrator must run, and ``serve`` on a database it cannot use refusing in
one line, fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.cli import main
from tests.postgres import Cluster, free_port


def test_a_load_into_a_new_database_creates_postgis(
    postgres: Cluster, data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.database(postgis=False)  # createdb, nothing more
    assert main(["load", str(data_copy), "--database-url", url]) == 0, capsys.readouterr().err
    assert "36 derived" in capsys.readouterr().out


def test_a_user_who_may_not_create_postgis_is_told_what_an_administrator_must_run(
    postgres: Cluster, data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.database(postgis=False, owner=postgres.role())  # the user's own database
    assert main(["load", str(data_copy), "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "has no PostGIS" in err
    assert "an administrator must run CREATE EXTENSION postgis" in err


def test_a_user_loads_a_database_an_administrator_prepared(
    postgres: Cluster, data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.database(postgis=True, owner=postgres.role())  # the extension made by the superuser
    assert main(["load", str(data_copy), "--database-url", url]) == 0, capsys.readouterr().err


def _serve_refuses(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, float]:
    """``serve --database-url url``'s one line on stderr, and how long it took to exit 1."""
    started = time.monotonic()
    assert main(["serve", "--database-url", url, "--port", str(free_port())]) == 1
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip(), took


def test_serving_a_database_never_loaded_says_so_in_one_line(
    postgres: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    err, _ = _serve_refuses(postgres.database(), capsys)
    assert err == "not serving: the database holds no dataset: run at-tanf-map load first"


@pytest.mark.usefixtures("postgres")  # skipped, as the others, where PostgreSQL is missing
def test_serving_a_database_out_of_reach_says_where_and_why_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()  # nothing listens there
    err, took = _serve_refuses(f"postgresql://postgres@127.0.0.1:{port}/at_tanf", capsys)
    assert err == f"not serving: cannot reach the database at 127.0.0.1:{port}: Connection refused"
    assert took < 5  # not the pool's 30 s
