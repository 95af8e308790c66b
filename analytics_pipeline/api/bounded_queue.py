"""The queue between the one task that reads the stream and one slow or fast client."""

from __future__ import annotations

import asyncio


class BoundedQueue:
    """A bounded asyncio queue of what one client is sent. An item that finds it full
    overflows it: what is queued is dropped, only ``marker`` is left (the client's stream
    ends, or it is told it fell behind), and nothing more is queued after it."""

    def __init__(self, size: int, marker: object) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue(size)
        self.marker = marker
        self.overflowed = False

    def offer(self, item: object) -> None:
        """Queue ``item``; overflow when full; nothing once overflowed."""
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
