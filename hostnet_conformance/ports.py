"""Host ports per test, distinct and deterministic.

Tests that deploy their own host-network workload need a host port nobody else uses.
The port is base + the key's index in the sorted key list, so every pytest-xdist worker
(each its own process, collecting the same tests) derives the same mapping without
coordination; a hash would need collision probing, whose result depends on order.
"""

from __future__ import annotations

from collections.abc import Iterable


class PortAllocator:
    def __init__(self, base: int, keys: Iterable[str]) -> None:
        self.base = base
        self._index = {key: i for i, key in enumerate(sorted(set(keys)))}

    def port_for(self, key: str) -> int:
        try:
            return self.base + self._index[key]
        except KeyError:
            raise KeyError(
                f"no host port registered for {key!r}; the allocator was built with "
                f"{len(self._index)} keys (is the test missing from the key list?)"
            ) from None

    def __len__(self) -> int:
        return len(self._index)

    @property
    def ports(self) -> range:
        """Every port this allocator can hand out (for validation and cleanup)."""
        return range(self.base, self.base + len(self._index))
