"""Validation of the suite's command-line options.

Each function raises UsageError with one line naming the option and the bad value, so a
typo fails at startup with a clear message instead of minutes later inside a cluster.
"""

from __future__ import annotations

import re

from .verdict import CLAIMS, UnknownClaim, claim

NODEPORT_RANGE = range(30000, 32768)  # Kubernetes' default Service NodePort range
UNPRIVILEGED_MIN = 1024  # below this lie the node's well-known services (22, 53, 80, 443...)
PORT_MAX = 65535

# kind's own rule (pkg/internal/apis/config/validate.go: validNameRE; create.go: clusterNameMax
# = 50, since "-control-plane" is appended to form a host name). The alphanumeric first
# character is docker's container-name rule, which kind's node names must also satisfy.
_KIND_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
KIND_NAME_MAX = 50

# An image reference ends in a tag (":v1.8.2", after the last '/', so a registry port is
# not a tag) or a digest ("@sha256:<hex>").
_TAG = re.compile(r":[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


class UsageError(ValueError):
    """An invalid command-line option value."""


def parse_port(value: str, option: str = "--host-port-base") -> int:
    """A TCP port number, 1..65535."""
    try:
        port = int(str(value).strip())
    except ValueError:
        port = 0
    if not 1 <= port <= PORT_MAX:
        raise UsageError(f"{option}: {value!r} is not a port number (1-{PORT_MAX})")
    return port


def parse_seconds(value: str, option: str) -> float:
    """A positive number of seconds (at most a day)."""
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 86400:
        raise UsageError(f"{option}: {value!r} is not a number of seconds (more than 0, at most 86400)")
    return seconds


def validate_port_base(base: int, needed: int, option: str = "--host-port-base") -> int:
    """A first host port such that base..base+needed-1 stays unprivileged and off NodePorts."""
    last = base + needed - 1  # the last port a PortAllocator over `needed` keys hands out
    if base < UNPRIVILEGED_MIN:
        raise UsageError(f"{option}: {base} is below {UNPRIVILEGED_MIN} (node services live there)")
    if last > PORT_MAX:
        raise UsageError(f"{option}: {needed} ports from {base} would pass {PORT_MAX}")
    if base <= NODEPORT_RANGE[-1] and last >= NODEPORT_RANGE[0]:
        # kube-proxy may hold these for Services; a collision would look like claim C8.
        raise UsageError(
            f"{option}: ports {base}-{last} overlap the NodePort range "
            f"{NODEPORT_RANGE[0]}-{NODEPORT_RANGE[-1]}"
        )
    return base


def validate_cluster_name(name: str, option: str = "--cluster-name") -> str:
    if len(name) > KIND_NAME_MAX or not _KIND_NAME.match(name):
        raise UsageError(
            f"{option}: {name!r} is not a valid kind cluster name "
            f"(lowercase letters, digits, '.', '-', starting with a letter or digit, "
            f"at most {KIND_NAME_MAX} characters)"
        )
    return name


def parse_claim_ids(csv: str, option: str = "--claims") -> list[str]:
    """'c1, C7' -> ['C1', 'C7'] (order kept, duplicates dropped)."""
    ids: list[str] = []
    for part in (p.strip() for p in csv.split(",")):
        if not part:
            continue
        try:
            ids.append(claim(part).id)
        except UnknownClaim:
            raise UsageError(
                f"{option}: unknown claim {part!r}; valid ids: {', '.join(CLAIMS)}"
            ) from None
    if not ids:
        raise UsageError(f"{option}: no claim ids in {csv!r}; valid ids: {', '.join(CLAIMS)}")
    return list(dict.fromkeys(ids))


def validate_image_ref(ref: str, option: str = "--node-exporter-image") -> str:
    """An image pinned by tag or digest: an implicit ':latest' would make runs irreproducible."""
    if not ref or any(c.isspace() for c in ref):
        raise UsageError(f"{option}: {ref!r} is not an image reference")
    last = ref.rsplit("/", 1)[-1]
    if not (_TAG.search(last.split("@", 1)[0]) or _DIGEST.search(ref)):
        raise UsageError(f"{option}: {ref!r} has no tag or digest (e.g. repo/name:v1.8.2)")
    return ref


_REGISTRY = re.compile(r"^(?P<host>localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+|\[[0-9a-f:]+\]|[a-z0-9-]+:\d+|"
                       r"[a-z0-9-]+(?:\.[a-z0-9-]+)+:\d+)(?P<path>(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)/?$")


def parse_registry(value: str) -> str:
    """--image-registry HOST[:PORT][/PATH]: where an air-gapped cluster's nodes pull the suite's images."""
    m = _REGISTRY.match(value or "")
    if not m:
        raise UsageError(f"--image-registry: {value!r} is not HOST[:PORT][/PATH] (a host with a dot or a port, "
                         "or localhost; a lowercase path)")
    return value.rstrip("/")


def with_registry(image: str, registry: str) -> str:
    """The image as the mirror serves it: the repository path as written, under the registry (an
    original registry host, if the reference names one, is dropped): prom/node-exporter:v1.8.2 ->
    REGISTRY/prom/node-exporter:v1.8.2."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        image = rest
    return f"{registry}/{image}"
