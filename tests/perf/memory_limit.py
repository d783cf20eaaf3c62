"""Run a command under a hard memory limit (a Linux cgroup), and report what it used.

The memory budget is a claim about the whole process tree (a server and, on a cold start, its
workers), and about anonymous memory and page cache together: the kernel charges both to the
cgroup and, at the limit, drops clean cache pages or kills the process (OOM). A run that ends
normally under the limit is the proof; ``max_usage_mb`` is the most it ever held, cache
included. Needs a writable cgroup v1 memory controller or cgroup v2 (root, or a delegated
subtree); ``available()`` says whether there is one.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class LimitedRun:
    returncode: int
    stdout: str
    stderr: str
    limit_mb: float
    max_usage_mb: float
    oom_kills: int


def _own_group() -> tuple[Path, int] | None:
    """This process's memory cgroup directory and the controller's version."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return CGROUP_ROOT / "memory" / path.lstrip("/"), 1
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return CGROUP_ROOT / line[3:].lstrip("/"), 2
    return None


def available() -> bool:
    own = _own_group()
    return own is not None and os.access(own[0], os.W_OK)


def run(argv: list[str], limit_bytes: int, name: str = "at-tanf-bench") -> LimitedRun:
    """Run ``argv`` (and every process it starts) in a new cgroup limited to ``limit_bytes``."""
    own = _own_group()
    if own is None:
        raise RuntimeError("no memory cgroup found for this process")
    parent, version = own
    group = parent / f"{name}-{os.getpid()}"
    group.mkdir()
    try:
        if version == 1:
            (group / "memory.limit_in_bytes").write_text(str(limit_bytes))
        else:
            (group / "memory.max").write_text(str(limit_bytes))
            (group / "memory.swap.max").write_text("0")
        procs = group / "cgroup.procs"

        def join() -> None:  # in the child, before it runs the command
            procs.write_text(str(os.getpid()))

        done = subprocess.run(argv, capture_output=True, text=True, preexec_fn=join, check=False)
        if version == 1:
            peak = int((group / "memory.max_usage_in_bytes").read_text())
            oom = dict(line.split() for line in (group / "memory.oom_control").read_text().splitlines())
            kills = int(oom.get("oom_kill", 0))
        else:
            peak_file = group / "memory.peak"
            peak = int(peak_file.read_text()) if peak_file.exists() else 0
            events = dict(line.split() for line in (group / "memory.events").read_text().splitlines())
            kills = int(events.get("oom_kill", 0))
        return LimitedRun(done.returncode, done.stdout, done.stderr, limit_bytes / 2**20, peak / 2**20, kills)
    finally:
        group.rmdir()
