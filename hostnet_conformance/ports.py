"""Host ports per test, distinct, deterministic, and free on the cluster's nodes.

Tests that deploy their own host-network workload need a host port nobody else uses.
Keys are sorted and each takes the next port from `base` upward that is not in `avoid` (ports
the cluster already uses: declared hostPorts and the nodes' listening sockets, found at discovery),
so every pytest-xdist worker given the same base and avoid set derives the same mapping without
coordination; a hash would need collision probing, whose result depends on order.

`listening_ports` reads /proc/net/{tcp,tcp6,udp,udp6} as a host-network pod sees them: the node's.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_PORT = 65535


class PortAllocator:
    def __init__(self, base: int, keys: Iterable[str], avoid: Iterable[int] = ()) -> None:
        self.base = base
        self.avoid = sorted(set(avoid))
        skip, port, self._port = set(self.avoid), base, {}
        for key in sorted(set(keys)):
            while port in skip:
                port += 1
            if port > MAX_PORT:
                raise ValueError(f"no free host port left above {base} for {key!r} "
                                 f"({len(skip)} ports in use on the nodes)")
            self._port[key] = port
            port += 1

    def port_for(self, key: str) -> int:
        try:
            return self._port[key]
        except KeyError:
            raise KeyError(
                f"no host port registered for {key!r}; the allocator was built with "
                f"{len(self._port)} keys (is the test missing from the key list?)"
            ) from None

    def __len__(self) -> int:
        return len(self._port)

    @property
    def ports(self) -> list[int]:
        """Every port this allocator hands out (for validation and cleanup)."""
        return sorted(self._port.values())


def listening_ports(proc_net: str) -> set[int]:
    """Local ports of listening TCP sockets and bound UDP sockets in the text of /proc/net/tcp,
    tcp6, udp and udp6 (concatenated). TCP state 0A is LISTEN; a UDP socket in state 07 is bound."""
    out = set()
    for line in proc_net.splitlines():
        f = line.split()
        if len(f) < 4 or ":" not in f[1] or f[0] == "sl":
            continue
        local, state = f[1], f[3]
        if state in ("0A", "07"):
            try:
                out.add(int(local.rsplit(":", 1)[1], 16))
            except ValueError:
                continue
    return out
