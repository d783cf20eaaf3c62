"""Setting the PostGIS store up as the README says, on a real PostgreSQL cluster: ``load`` on a
database made by ``createdb`` alone (it creates the extension), a user who may not create it told
in one line what an administrator must run, and ``serve`` on a database it cannot use refusing in
one line, fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from tests.postgres import Cluster


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
