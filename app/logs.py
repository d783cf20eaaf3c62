"""The service's log lines are written off the event loop, in batches.

``install()`` (run at every worker's start-up, whatever started it: ``at-tanf-map serve`` or
``python -m uvicorn app.main:app``) puts a queueing handler on the ``app`` logger. A request
only appends its record to an in-memory queue; one thread formats the records and writes them
to stderr every ``FLUSH_S`` seconds, in one write. So a stalled reader of stderr stalls that
thread, never a request, and a request costs no thread wake-up and no system call.
(A standard ``QueueListener`` wakes its thread for every record: that hand-over cost about
50 µs of CPU per request here, as much as the rest of a repeated request.) The queue is bounded:
past ``MAX_PENDING`` unwritten records new ones are counted and dropped, and the count is
written when the writer catches up. A fork waits for a write under way (``_writing``).

uvicorn's own access log is switched off: the request log (``app.middleware.RequestLog``)
replaces it, so both ways of starting the service log the same lines.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections import deque
from typing import TextIO

FLUSH_S = 0.05
MAX_PENDING = 100_000
FORK_WAIT_S = 1.0  # how long a fork waits for a write under way (a stalled stderr: it goes ahead)

# Held while the writer writes. A fork (app.heavy's worker) waits for it: a child forked while the
# writer was inside ``stream.write`` would inherit the stream's own lock held, and a forked
# process flushes stderr as it starts (multiprocessing does), so it would wait for ever.
_writing = threading.Lock()
_fork_holds = False


class PendingRecords:
    """The queue a ``QueueHandler`` puts records on: appended without waking anyone."""

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self.records: deque[logging.LogRecord] = deque()
        self.limit = limit
        self.dropped = 0

    def put_nowait(self, record: logging.LogRecord) -> None:
        if len(self.records) >= self.limit:
            self.dropped += 1
            return
        self.records.append(record)


class PendingHandler(logging.Handler):
    """Puts each record on the queue as it is: its message is already its final text, so the
    formatting and copying ``QueueHandler.prepare`` does (a third of a log line's cost) is left
    to the writer thread."""

    def __init__(self, pending: PendingRecords) -> None:
        super().__init__()
        self.pending = pending

    def emit(self, record: logging.LogRecord) -> None:
        self.pending.put_nowait(record)

    def handle(self, record: logging.LogRecord) -> bool:
        """``emit`` without the handler's lock (a deque's append is atomic), after the filters."""
        if not self.filter(record):
            return False
        self.emit(record)
        return True


class BatchWriter(threading.Thread):
    """Every ``FLUSH_S`` seconds, the pending records formatted and written to ``stream`` at once."""

    def __init__(self, pending: PendingRecords, stream: TextIO) -> None:
        super().__init__(name="app-log-writer", daemon=True)
        self.pending = pending
        self.stream = stream
        self.formatter = logging.Formatter("%(message)s")
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(FLUSH_S):
            self.flush()
        self.flush()

    def flush(self) -> None:
        records = self.pending.records
        lines = []
        while records:
            lines.append(self.formatter.format(records.popleft()))
        if self.pending.dropped:
            lines.append(f'{{"log": "{self.pending.dropped} lines dropped: stderr was not read"}}')
            self.pending.dropped = 0
        if lines:
            with _writing:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # stderr closed: nothing to write to

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


_writer: BatchWriter | None = None


def _before_fork() -> None:
    global _fork_holds
    _fork_holds = _writing.acquire(timeout=FORK_WAIT_S)


def _after_fork() -> None:
    global _fork_holds
    if _fork_holds:
        _fork_holds = False
        _writing.release()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)


def install(stream: TextIO | None = None) -> BatchWriter:
    """Route the ``app`` loggers through the queue to ``stream`` (stderr), once per process."""
    global _writer
    if _writer is None:
        pending = PendingRecords()
        _writer = BatchWriter(pending, stream or sys.stderr)
        _writer.start()
        atexit.register(_writer.stop)  # write what is pending before the process ends
        app_logger = logging.getLogger("app")
        app_logger.addHandler(PendingHandler(pending))
        if app_logger.level == logging.NOTSET:
            app_logger.setLevel(logging.INFO)
        logging.getLogger("uvicorn.access").disabled = True
    return _writer
