"""The queue between the one task that reads the stream and one slow or fast client."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

Item = TypeVar("Item")


class BoundedQueue(Generic[Item]):
    """A bounded asyncio queue of what one client is sent. An item that finds it full
    overflows it: what is queued is dropped, only ``marker`` is left (the client's stream
    ends, or it is told it fell behind), and nothing more is queued after it."""

    def __init__(self, size: int, marker: object) -> None:
        self.queue: asyncio.Queue[Item | object] = asyncio.Queue(size)  # items, then the marker
        self.marker = marker
        self.overflowed = False

    def offer(self, item: Item) -> None:
        """Queue ``item``; overflow when full; nothing once overflowed."""
        self._put(item)

    def end(self) -> None:
        """Queue the marker after what is queued (overflow when full)."""
        self._put(self.marker)

    def _put(self, item: Item | object) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflow()

    def overflow(self) -> None:
        """Drop what is queued and leave only the marker."""
        self.overflowed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(self.marker)
