"""The service starts on valid data, refuses invalid data, and answers /healthz."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.settings import Settings


def test_healthz_reports_the_dataset(data_copy: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_copy))) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["incidents"] == len(list((data_copy / "incidents").glob("*.yaml")))
    assert len(body["dataset_version"]) == 16


def test_the_app_does_not_start_on_invalid_data(data_copy: Path) -> None:
    (data_copy / "zone.yaml").write_text("id: [", encoding="utf-8")
    from app.data.loader import DataError

    with pytest.raises(DataError, match=r"geodata/zone.yaml: malformed YAML"):
        with TestClient(create_app(Settings(data_dir=data_copy))):
            pass


def test_cli_validate_accepts_the_bundled_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("OK ")


def test_cli_validate_names_the_problem(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = data_copy / "sites.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("lat: 33.50583", "lat: 95"))
    assert main(["validate", str(data_copy)]) == 1
    err = capsys.readouterr().err
    assert "geodata/sites.yaml: record 'garrison': field 'lat'" in err


def test_cli_serve_refuses_invalid_data_before_listening(
    data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_copy / "incidents" / "bad.yaml").write_text("id: x\n", encoding="utf-8")
    assert main(["serve", "--data-dir", str(data_copy), "--port", "1"]) == 1
    assert "geodata/incidents/bad.yaml" in capsys.readouterr().err


def test_unknown_paths_get_problem_json(data_copy: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_copy))) as client:
        response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AT_TANF_PORT", "9001")
    monkeypatch.setenv("AT_TANF_MAX_LIMIT", "500")
    settings = Settings()
    assert settings.port == 9001 and settings.max_limit == 500


def test_settings_refuse_a_default_above_the_maximum() -> None:
    with pytest.raises(ValueError, match="default_limit"):
        Settings(default_limit=2000, max_limit=1000)


def test_cli_flags_reach_the_settings() -> None:
    from app.cli import _parser, _settings

    argv = ["serve", "--port", "9002", "--embed-frame-ancestors", "https://news.example"]
    argv += ["--cache-dir", "/tmp/c", "--tile-url", "", "--max-limit", "500"]
    args = _parser().parse_args(argv)
    settings = _settings(args)
    assert settings.port == 9002 and settings.max_limit == 500 and settings.tile_url == ""
    assert settings.embed_frame_ancestors == "https://news.example"
    assert str(settings.cache_dir) == "/tmp/c"


@pytest.mark.parametrize(
    ("workers", "why"),
    [("0", "must be 1 or more, got 0"), ("-3", "must be 1 or more, got -3"), ("x", "must be a whole number")],
)
def test_serve_refuses_fewer_than_one_worker(
    workers: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--workers 0`` and ``-3`` were taken and served one process ("with -3 worker (as asked)")."""
    from app.cli import _parser

    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args(["serve", "--workers", workers])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --workers: {why}" in err
