"""Stopping the real servers the tests start (MariaDB, nginx, `at-tanf-map serve`)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(process: subprocess.Popen[Any], timeout_s: float = 20) -> None:
    """SIGTERM, then SIGKILL if ``process`` has not exited within ``timeout_s`` seconds; reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
