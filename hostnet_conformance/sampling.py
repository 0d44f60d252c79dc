"""Which nodes a run judges by exec (`--nodes N|all`, `--node-selector`): a few, chosen the same way
every time and spread over the cluster's zones, instance types and architectures, with the reason
each was picked. Pure: it reads Node objects as the API serves them and returns names and words."""
from __future__ import annotations

from dataclasses import dataclass, field

# what makes nodes differ in ways a host-network pod can notice, most telling first
SPREAD_LABELS = (("topology.kubernetes.io/zone", "zone"),
                 ("node.kubernetes.io/instance-type", "instance type"),
                 ("kubernetes.io/arch", "arch"))
DEFAULT_NODES = 2
# simulated nodes (kwok's, scripts/fake_nodes.py): they count where the API is asked (C1's pod facts,
# C15's one pod per node) but have no kubelet, node or process to exec into, so they are never sampled
SIMULATED_LABEL = "hostnet-conformance/fake-node"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
ALL = "all"


class BadSample(ValueError):
    """--nodes or --node-selector given as nothing the suite can use: one line for the user."""


@dataclass
class Sample:
    nodes: list[str]                                  # in the order they were picked
    why: dict[str, str] = field(default_factory=dict)  # node -> why it was picked
    candidates: int = 0                              # the nodes it was picked from
    asked: int | None = None                         # --nodes N; None: all

    @property
    def everything(self) -> bool:
        return len(self.nodes) == self.candidates

    def in_words(self) -> str:
        if self.everything:
            return f"all {self.candidates} schedulable Linux node(s): {', '.join(self.nodes)}"
        return (f"{len(self.nodes)} of {self.candidates} schedulable Linux nodes (--nodes {self.asked}): "
                + "; ".join(f"{n} ({self.why[n]})" for n in self.nodes))

    def to_dict(self) -> dict:
        return {"nodes": self.nodes, "why": self.why, "candidates": self.candidates, "asked": self.asked}


def parse_nodes(value: str | int | None) -> int | None:
    """--nodes: a whole number of nodes from 1, or `all` (None)."""
    if value is None:
        return DEFAULT_NODES
    text = str(value).strip().lower()
    if text == ALL:
        return None
    if not text.isdigit() or int(text) < 1:
        raise BadSample(f"--nodes must be a whole number from 1 or 'all', not {value!r}")
    return int(text)


def parse_selector(text: str | None) -> dict[str, str | None]:
    """--node-selector: `key=value,key2=value2` (equality only; `key` alone: the label exists)."""
    out: dict[str, str | None] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        key = key.strip()
        if not key or any(c in key for c in " !()") or (eq and "=" in value):
            raise BadSample(f"--node-selector takes key=value[,key=value...]; {part!r} is not one")
        out[key] = value.strip() if eq else None
    if text is not None and not out:
        raise BadSample(f"--node-selector {text!r} selects by no label")
    return out


def in_words(selector: dict[str, str | None]) -> str:
    return ",".join(k if v is None else f"{k}={v}" for k, v in selector.items())


def simulated(node) -> bool:
    return SIMULATED_LABEL in (node.metadata.labels or {}) or KWOK_ANNOTATION in (node.metadata.annotations or {})


def selected(node, selector: dict[str, str | None]) -> bool:
    labels = node.metadata.labels or {}
    return all(k in labels and (v is None or labels[k] == v) for k, v in selector.items())


def _traits(node) -> list[tuple[str, str]]:
    labels = node.metadata.labels or {}
    return [(words, labels[key]) for key, words in SPREAD_LABELS if labels.get(key)]


def choose(nodes: list, asked: int | None) -> Sample:
    """`asked` of `nodes` (None or more than there are: all), picked one at a time: the node that
    brings the most zone, instance-type and arch values not yet in the sample (a new zone outweighs
    any number of new instance types, and those any new arch), ties broken by name."""
    by_name = {n.metadata.name: n for n in nodes}
    names = sorted(by_name)
    want = len(names) if asked is None else min(asked, len(names))
    seen: set[tuple[str, str]] = set()
    picked: list[str] = []
    why: dict[str, str] = {}
    rank = {words: i for i, (_, words) in enumerate(SPREAD_LABELS)}
    while len(picked) < want:
        def gain(name: str) -> tuple:
            new = [t for t in _traits(by_name[name]) if t not in seen]
            # lexicographic: new zones first, then instance types, then arches
            return tuple(-sum(1 for w, _ in new if rank[w] == i) for i in range(len(SPREAD_LABELS))), name
        best = min((n for n in names if n not in picked), key=gain)
        new = [t for t in _traits(by_name[best]) if t not in seen]
        if not picked:
            why[best] = "first by name" + (f"; {', '.join(f'{w} {v}' for w, v in new)}" if new else "")
        elif new:
            why[best] = "brings " + ", ".join(f"{w} {v}" for w, v in new)
        else:
            why[best] = "next by name (no zone, instance type or arch left unsampled)"
        seen.update(new)
        picked.append(best)
    return Sample(nodes=picked, why=why, candidates=len(names), asked=asked)
