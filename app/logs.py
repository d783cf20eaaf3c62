"""The service's log lines are written off the event loop.

``install()`` (run at every worker's start-up, whatever started it: ``at-tanf-map serve`` or
``python -m uvicorn app.main:app``) puts a ``QueueHandler`` on the ``app`` logger: a request only
appends its record to an in-memory queue, and one thread (``QueueListener``) formats and writes
the lines to stderr. A stalled reader of stderr then stalls that thread, never the requests (the
queue is unbounded; a log that nobody reads for long grows in memory, not in latency). uvicorn's
own access log is switched off: the request log (``app.middleware.RequestLog``) replaces it, so
both ways of starting the service log the same lines.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys

_listener: logging.handlers.QueueListener | None = None


def install() -> None:
    """Route the ``app`` loggers through a queue to stderr (once per process)."""
    global _listener
    if _listener is not None:
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter("%(message)s"))
    _listener = logging.handlers.QueueListener(records, writer, respect_handler_level=True)
    _listener.start()
    atexit.register(_listener.stop)  # write what is queued before the process ends
    app_logger = logging.getLogger("app")
    app_logger.addHandler(logging.handlers.QueueHandler(records))
    if app_logger.level == logging.NOTSET:
        app_logger.setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").disabled = True
