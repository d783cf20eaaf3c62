"""One wrk run, parsed: the runner ``tests/perf/serving.py`` and ``tests/perf/load.py`` share.

Needs ``apt-get install wrk`` (4.x). One thread, ``connections`` connections, ``seconds`` long,
with ``--latency`` so that the percentiles are printed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys


def require() -> None:
    """Stop with a clear message where wrk is not installed."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")


def run(
    url: str, seconds: float, connections: int, headers: tuple[str, ...] | list[str] = ()
) -> dict[str, float]:
    """Requests, requests/s, p50 and p99 in ms, and errors (socket errors plus non-2xx/3xx
    answers) of ``wrk -t1 -c<connections> -d<seconds>s --latency`` on ``url``."""
    extra = [x for h in headers for x in ("-H", h)]
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--latency", *extra, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": to_ms(latency["50"]),
        "p99_ms": to_ms(latency["99"]),
        "errors": errors + (int(non_ok.group(1)) if non_ok else 0),
    }


def to_ms(value: str) -> float:
    """A wrk duration (``812.00us``, ``1.20ms``, ``2.01s``, ``1.00m``) in milliseconds."""
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
