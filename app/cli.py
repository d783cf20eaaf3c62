"""Command line: ``at-tanf-map serve | validate | borders``.

Flags override the ``AT_TANF_*`` environment variables, which override the defaults.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from app.data.loader import DataError, load_dataset
from app.settings import BUNDLED_DATA, Settings

if TYPE_CHECKING:
    from app.data.derive import Loaded

# Measured with tests/perf/serving.py, alternated (README, "Load"): at 50 connections on the items
# page with two workers (the default on two cores) asyncio's p99 stayed within 30-41 ms in four
# runs, uvloop's reached 198 ms once; uvloop used 10-20% less CPU per request.
DEFAULT_LOOP = "asyncio"
# Above this many incidents, each extra worker without --cache-dir derives the data again.
MANY_INCIDENTS = 20_000
RAW_BORDERS = BUNDLED_DATA / "raw" / "natural-earth-10m-countries-middle-east.geojson"


def _at_least_one(text: str) -> int:
    """``--workers``: a whole number of processes, 1 or more (argparse prints the error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="at-tanf-map", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="validate the data, then serve the map and the API")
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--data-dir", type=Path, help="data directory (default: bundled geodata/)")
    serve.add_argument("--tile-url", help="tile URL template, e.g. https://.../{z}/{x}/{y}.png")
    serve.add_argument("--tile-attribution", help="attribution text of the tiles")
    serve.add_argument("--default-limit", type=int, help="items per page by default (100)")
    serve.add_argument("--max-limit", type=int, help="largest page a client may ask for (1000)")
    serve.add_argument(
        "--embed-frame-ancestors", help="who may frame /embed: '*' or origins (space-separated)"
    )
    serve.add_argument(
        "--cache-dir", type=Path, help="cache derived data here between starts (large datasets)"
    )
    serve.add_argument(
        "--public-url",
        help="where readers reach the service, e.g. https://maps.example.org/tanf/: every link is built "
        "from it, whatever Host or forwarded headers a request carries",
    )
    serve.add_argument(
        "--allowed-hosts",
        help="Host names requests may carry, comma-separated ('*.example.org' for subdomains, '*' for "
        "any); others get 400 (default: localhost,127.0.0.1,::1, or unchecked with --public-url)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        help="proxies whose X-Forwarded-Proto/-For/-Prefix are believed, comma-separated addresses "
        "or networks, '*' for any (default: none)",
    )
    serve.add_argument(
        "--workers",
        type=_at_least_one,
        help="worker processes (default: one per core, or 1 for a large dataset without --cache-dir)",
    )
    serve.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default=DEFAULT_LOOP,
        help=f"event loop (default {DEFAULT_LOOP}: the shorter latency tail under load, README)",
    )
    serve.add_argument("--answer-cache-mb", type=int, help="finished API answers kept per worker, MB (64)")
    serve.add_argument("--request-budget-s", type=float, help="seconds of work a request may take (10)")
    serve.add_argument(
        "--heavy-workers",
        type=int,
        help="processes per worker for CSV, HTML and polygon pages (1; 0: threads)",
    )

    serve.add_argument("--database-url", help="serve from this PostGIS database (filled by 'load')")

    load = sub.add_parser(
        "load", help="validate a data directory and load it into PostGIS or a cache (incremental)"
    )
    load.add_argument("data_dir", type=Path, nargs="?", default=None)
    load.add_argument("--database-url", help="postgresql://... (or AT_TANF_DATABASE_URL)")
    load.add_argument(
        "--cache-dir", type=Path, help="or the embedded store's cache that 'serve --cache-dir' follows"
    )
    load.add_argument("--full", action="store_true", help="derive every incident again")

    validate = sub.add_parser("validate", help="check a data directory without serving it")
    validate.add_argument("data_dir", type=Path, nargs="?", default=None)

    export = sub.add_parser("export", help="write the map as one self-contained HTML file (folium)")
    export.add_argument("out", type=Path, help="the HTML file to write")
    export.add_argument("--data-dir", type=Path, help="data directory (default: bundled geodata/)")
    export.add_argument("--tile-url", help="tile URL template ('' for none)")

    borders = sub.add_parser("borders", help="rebuild geodata/borders.geojson from the raw file")
    borders.add_argument("--source", type=Path, default=RAW_BORDERS)
    borders.add_argument("--out", type=Path, default=BUNDLED_DATA / "borders.geojson")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    names = (
        "host",
        "port",
        "data_dir",
        "tile_url",
        "tile_attribution",
        "default_limit",
        "max_limit",
        "embed_frame_ancestors",
        "cache_dir",
        "public_url",
        "allowed_hosts",
        "forwarded_allow_ips",
        "answer_cache_mb",
        "request_budget_s",
        "heavy_workers",
        "database_url",
    )
    overrides: dict[str, Any] = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    return Settings(**overrides)


def _validate(data_dir: Path) -> int:
    from app.data.catalog import build_catalog

    try:
        catalog = build_catalog(load_dataset(data_dir))
    except DataError as exc:
        print(f"INVALID {data_dir}\n{exc}", file=sys.stderr)
        return 1
    data = catalog.dataset
    located = sum(1 for i in catalog.incidents if i.region is not None)
    print(
        f"OK {data_dir}: {len(data.incidents)} incidents ({located} located), "
        f"{len(data.sites)} sites, {len(data.sources)} sources, version {data.version}"
    )
    return 0


def _log_config() -> dict[str, Any]:
    """uvicorn's logging; our one JSON line per request (app.middleware) replaces its access log
    and is written by a thread of each worker (app.logs, installed at the app's start-up)."""
    from uvicorn.config import LOGGING_CONFIG

    return copy.deepcopy(LOGGING_CONFIG)


def default_workers(settings: Settings, incidents: int) -> tuple[int, str]:
    """One worker per usable core, unless each would derive a large dataset again (no
    ``cache_dir``): then one. Returns the number and the reason, for the start-up line."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if settings.cache_dir is None and incidents > MANY_INCIDENTS and cores > 1:
        return 1, f"{incidents} incidents and no --cache-dir: each worker would derive them again"
    return cores, f"one per core ({cores})"


WORKER_SETTINGS = "AT_TANF_WORKER_SETTINGS"
# Each connection takes a descriptor; the process itself needs a few dozen (its stores hold none:
# app.data.store_file). Below this a modest burst of connections would stop the service.
MIN_OPEN_FILES = 256


def open_file_limit_fault() -> str | None:
    """Raise the soft limit on open files to the hard one; None if enough, else why not (one line)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < MIN_OPEN_FILES:
        return (
            f"the open file limit (ulimit -n) is {soft}; the service needs at least {MIN_OPEN_FILES} "
            "(one per connection, and a few for itself): raise it"
        )
    return None


def describe_os_error(error: OSError) -> str:
    """An OS error in one line: the file and the cause, never a traceback."""
    cause = os.strerror(error.errno).lower() if error.errno else str(error)
    return f"{error.filename}: {cause}" if error.filename else cause


def worker_app() -> FastAPI:
    """The app of one worker process of ``serve --workers N``."""
    from app.main import create_app
    from app.server import BoundedHttpToolsProtocol

    settings = Settings.model_validate_json(os.environ[WORKER_SETTINGS])
    BoundedHttpToolsProtocol.configure(settings)
    return create_app(settings)


def _serve(settings: Settings, workers: int | None, loop: str = DEFAULT_LOOP) -> int:
    import uvicorn

    from app.main import create_app
    from app.served import load_served
    from app.server import BoundedHttpToolsProtocol

    fault = open_file_limit_fault()
    if fault:
        print(f"not serving: {fault}", file=sys.stderr)
        return 1
    try:
        served = load_served(settings)  # refuse to start on invalid data, before binding
    except DataError as exc:
        print(f"not serving {settings.data_dir}:\n{exc}", file=sys.stderr)
        return 1
    except LookupError as exc:  # a database with nothing loaded, or out of reach
        print(f"not serving: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a data file that cannot be read, a full /tmp, too many open files...
        print(f"not serving {settings.data_dir}: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    why = "as asked"
    if workers is None:
        workers, why = default_workers(settings, len(served.stores["events"]))
    print(
        f"serving {'the database' if settings.database_url else settings.data_dir} (version {served.version})"
        f" on http://{settings.host}:{settings.port}"
        f" with {workers} worker{'s' if workers > 1 else ''} ({why}), {loop} event loop"
    )
    if settings.public_url:
        print(f"links point to {settings.public_url}")
    # The bounds of app.server: header size and time, idle connections (the README's "In production").
    bounded: dict[str, Any] = {
        "http": "app.server:BoundedHttpToolsProtocol",
        "timeout_keep_alive": settings.idle_timeout_s,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
    if workers > 1:
        # Each worker process builds its own app (worker_app below) from these exact settings;
        # through the plain AT_TANF_* variables an empty tile URL or an unset cache would be lost.
        os.environ[WORKER_SETTINGS] = settings.model_dump_json()
        uvicorn.run(
            "app.cli:worker_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_config=_log_config(),
            access_log=False,
            proxy_headers=False,  # forwarded headers: app.proxy, from --forwarded-allow-ips only
            loop=loop,
            **bounded,
        )
    else:
        BoundedHttpToolsProtocol.configure(settings)
        uvicorn.run(
            create_app(settings, served),
            host=settings.host,
            port=settings.port,
            log_config=_log_config(),
            access_log=False,
            proxy_headers=False,  # forwarded headers: app.proxy, from --forwarded-allow-ips only
            loop=loop,
            **bounded,
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from app.data.catalog import build_catalog
    from app.export.standalone import export_html

    settings = _settings(args)
    try:
        catalog = build_catalog(load_dataset(settings.data_dir))
    except DataError as exc:
        print(f"INVALID {settings.data_dir}\n{exc}", file=sys.stderr)
        return 1
    size = export_html(catalog, args.out, settings.tile_url, settings.tile_attribution)
    print(f"wrote {args.out} ({size / 1000:.0f} KB, dataset version {catalog.version})")
    return 0


class LoadFault(Exception):
    """The database refused a load (its first line of the message)."""


def _load_into(settings: Settings, data_dir: Path, full: bool) -> Loaded:
    if settings.database_url:
        import psycopg  # only here: the cache needs no PostgreSQL client

        from app.data.pg_load import PostgisMissing, load

        try:
            return load(data_dir, settings.database_url, full=full)
        except PostgisMissing as exc:
            raise LoadFault(str(exc)) from None
        except psycopg.Error as exc:
            raise LoadFault(str(exc).strip().splitlines()[0]) from None
    from app.served import load_into_cache

    return load_into_cache(settings.model_copy(update={"data_dir": data_dir}), full=full)


def _load(args: argparse.Namespace) -> int:
    """``load``: into the database or the cache the settings name (one of them)."""
    from app.data.cache import CacheFault

    settings = _settings(args)
    data_dir = args.data_dir or settings.data_dir
    if bool(settings.database_url) == bool(settings.cache_dir):
        print("load needs one of --database-url or --cache-dir (or AT_TANF_DATABASE_URL, AT_TANF_CACHE_DIR)",
              file=sys.stderr)  # fmt: skip
        return 2
    where = "the database" if settings.database_url else str(settings.cache_dir)
    try:
        done = _load_into(settings, data_dir, args.full)
    except DataError as exc:
        print(f"INVALID {data_dir} (nothing loaded)\n{exc}", file=sys.stderr)
        return 1
    except (CacheFault, LoadFault) as exc:
        print(f"not loaded: {exc}", file=sys.stderr)
        return 1
    read = "every record read again" if args.full else "only the records whose bytes changed were read"
    print(f"loaded {data_dir} (version {done.version}) into {where}: {done.derived} derived, "
          f"{done.removed} removed, {done.unchanged} unchanged incidents ({read})")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "load":
        return _load(args)
    if args.command == "validate":
        return _validate(args.data_dir or Settings().data_dir)
    if args.command == "export":
        return _export(args)
    if args.command == "borders":
        from app.data.borders import write_borders

        kept = write_borders(args.source, args.out)
        print(f"wrote {args.out} ({kept} countries)")
        return 0
    return _serve(_settings(args), args.workers, args.loop)


if __name__ == "__main__":
    sys.exit(main())
