"""One lock per key (a shape, a model, a cache entry), so that work on one key never waits for another's."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Hashable, Iterator


class KeyedLocks:
    """A re-entrant lock per key, made on first use and dropped once nobody holds or waits for it.

    Two threads that want the same key (two visitors compiling the same shape) take turns; threads with
    different keys never wait for each other. The guard is held only to find or drop a key's lock.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, list] = {}  # key -> [RLock, threads holding or waiting]

    @contextlib.contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        """Hold ``key``'s lock for the ``with`` block (re-entrant in the same thread)."""
        with self._guard:
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = [threading.RLock(), 0]
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        """How many keys are held or waited for now."""
        with self._guard:
            return len(self._locks)
