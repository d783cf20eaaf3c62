"""A fork while the request log is being written (app.logs): the forked process does not inherit
the stream's lock held. A process forked by multiprocessing flushes stderr as it starts, so one
forked mid-write (app.heavy forks its worker after the log's writer has started) waited for ever."""

from __future__ import annotations

import logging
import os
import threading
import time

from app import logs


class SlowStream:
    """A stream whose writes hold its lock for ``hold_s`` seconds (a pipe read slowly)."""

    def __init__(self, hold_s: float) -> None:
        self.lock = threading.Lock()
        self.hold_s = hold_s
        self.writing = threading.Event()
        self.written: list[str] = []

    def write(self, text: str) -> None:
        with self.lock:
            self.writing.set()
            time.sleep(self.hold_s)
            self.written.append(text)

    def flush(self) -> None:
        with self.lock:
            pass


def test_a_fork_waits_for_the_write_under_way() -> None:
    stream = SlowStream(0.3)
    pending = logs.PendingRecords()
    writer = logs.BatchWriter(pending, stream)  # type: ignore[arg-type]
    pending.put_nowait(logging.makeLogRecord({"msg": "a request's line"}))
    flushing = threading.Thread(target=writer.flush)
    flushing.start()
    assert stream.writing.wait(5)
    pid = os.fork()
    if pid == 0:  # the child takes the stream's lock, as a starting process flushes stderr
        os._exit(0 if stream.lock.acquire(timeout=2) else 1)
    _, status = os.waitpid(pid, 0)
    flushing.join()
    assert os.waitstatus_to_exitcode(status) == 0, "the child found the stream's lock held"
    assert stream.written == ["a request's line\n"]
