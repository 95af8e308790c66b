"""Graceful stops: the first SIGINT/SIGTERM asks a service to stop, a second one stops at once."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)


def stop_on_signals(request_stop: Callable[[], object]) -> list[int]:
    """Call ``request_stop`` on the first SIGINT or SIGTERM; exit at once on the second.

    Returns the list the received signal's number is put in (empty until one arrives). Must
    be called from the main thread (Python delivers signals there)."""
    received: list[int] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        if received:
            log.warning("second %s: stopping now", signal.Signals(signum).name)
            os._exit(128 + signum)
        received.append(signum)
        log.info("%s: stopping (send it again to stop at once)", signal.Signals(signum).name)
        request_stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)
    return received
