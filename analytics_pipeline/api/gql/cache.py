"""The cache of valid GraphQL documents, bounded by the bytes of query text it holds.

Only documents that passed validation are put here (``gql.execution`` sees to it): a flood of
distinct or invalid documents cannot make the process grow.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from graphql import DocumentNode

CACHE_BYTES = 1_000_000  # query text held by the cache (the parsed documents are ~20x that)
MAX_CACHED_LENGTH = 20_000  # a longer document is never cached


class DocumentCache:
    """Valid documents by (text, production mode), least recently used first out, bounded by
    the total length of their text. Thread-safe: documents are parsed in worker threads."""

    def __init__(self, max_bytes: int = CACHE_BYTES, max_length: int = MAX_CACHED_LENGTH) -> None:
        self.max_bytes = max_bytes
        self.max_length = max_length
        self.bytes = 0
        self._entries: OrderedDict[tuple[str, bool], DocumentNode] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, text: str, production: bool) -> DocumentNode | None:
        with self._lock:
            document = self._entries.get((text, production))
            if document is not None:
                self._entries.move_to_end((text, production))
            return document

    def put(self, text: str, production: bool, document: DocumentNode) -> None:
        """Keep a document that passed validation (a long one is not kept)."""
        if len(text) > self.max_length:
            return
        with self._lock:
            if (text, production) in self._entries:
                return
            self._entries[(text, production)] = document
            self.bytes += len(text)
            while self.bytes > self.max_bytes:
                (old_text, _), _ = self._entries.popitem(last=False)
                self.bytes -= len(old_text)
