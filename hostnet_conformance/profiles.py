"""Vendor pages as profiles (issue 23): fixtures/profiles/<name>.yaml, one file per vendor page.

A profile never changes what the suite observes (the claim registry, verdict.CLAIMS); it says what
its page expects of each observation:
  expect: pass            the page states the seed claim (the default for every claim of `base`);
  expect: fail, codes     the page states the opposite: an observed FAIL with one of those failure
                          codes is what the page says (PASS, "as the page says"), an observed PASS
                          contradicts it (FAIL);
  expect: either          the page leaves it to the cluster (a policy may or may not select the node):
                          the observation stands, the report quotes the page;
  not_applicable: REASON  the page says the claim cannot hold there (its tests run nothing; the
                          claim is NOT APPLICABLE with the page's reason).
A NOT APPLICABLE or ERROR the run observed always stands: a profile never turns "could not see"
into a verdict.

A profile `extends` another (its claims override the parent's, claim by claim). `kind: overlay`
profiles (CNI features) are detected on their own and layered over the vendor profile. Detection
rules read what the API server shows (api groups, webhooks, CRDs, node labels and OS images, the
server's version); a profile matches when `detect.any` has one rule true (or every rule of
`detect.all`). The report names the profile, how it was chosen and the signals that matched, and
flags a profile whose page was read more than STALE_AFTER_DAYS ago."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .resources import FIXTURES
from .verdict import CLAIMS

PROFILES = FIXTURES / "profiles"
STALE_AFTER_DAYS = 365
EXPECTS = ("pass", "fail", "either")
RULES = {
    "api_group": "an API group the server serves",
    "validating_webhook": "a ValidatingWebhookConfiguration's webhook name",
    "mutating_webhook": "a MutatingWebhookConfiguration's webhook name",
    "crd": "a CustomResourceDefinition's name",
    "node_label": "a label key (or key=value) on some node",
    "node_os_image_contains": "text in some node's status.nodeInfo.osImage",
    "server_version_contains": "text in the API server's gitVersion",
}
TOP_KEYS = {"profile", "kind", "title", "source", "extends", "detect", "params", "claims"}
CLAIM_KEYS = {"expect", "codes", "statement", "not_applicable", "note"}


class ProfileError(ValueError):
    """A profile that cannot be used: one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Expectation:
    expect: str = "pass"            # pass | fail | either | not_applicable
    statement: str = ""
    codes: tuple[str, ...] = ()
    reason: str = ""                # not_applicable's reason
    note: str = ""


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str                       # vendor | overlay
    title: str
    url: str
    retrieved: dt.date
    path: str
    chain: tuple[str, ...]          # itself, then what it extends
    detect: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    claims: dict = field(default_factory=dict)   # claim id -> Expectation (extends resolved)

    def age_days(self, today: dt.date | None = None) -> int:
        return ((today or dt.date.today()) - self.retrieved).days

    def stale(self, today: dt.date | None = None) -> bool:
        return self.age_days(today) > STALE_AFTER_DAYS

    def expectation(self, claim: str) -> Expectation:
        return self.claims.get(claim, Expectation())


def _fail(where: str, what: str) -> ProfileError:
    return ProfileError(f"profile {where}: {what}")


def _claim_ids(key: str, where: str) -> list[str]:
    ids = [k.strip().upper() for k in str(key).split(",") if k.strip()]
    unknown = [k for k in ids if k not in CLAIMS]
    if unknown or not ids:
        raise _fail(where, f"claims key {key!r} names no known claim ({', '.join(unknown) or 'empty'}); "
                           f"valid: {', '.join(CLAIMS)}")
    return ids


def _expectation(spec: Any, where: str) -> Expectation:
    if not isinstance(spec, dict):
        raise _fail(where, f"each claim needs a mapping, got {spec!r}")
    extra = set(spec) - CLAIM_KEYS
    if extra:
        raise _fail(where, f"unknown key(s) {', '.join(sorted(extra))}; known: {', '.join(sorted(CLAIM_KEYS))}")
    if "not_applicable" in spec:
        if "expect" in spec or not str(spec["not_applicable"]).strip():
            raise _fail(where, "not_applicable takes the page's reason, and no expect beside it")
        return Expectation("not_applicable", str(spec.get("statement", "")), (), str(spec["not_applicable"]),
                           str(spec.get("note", "")))
    expect = spec.get("expect", "pass")
    if expect not in EXPECTS:
        raise _fail(where, f"expect {expect!r} is not one of {', '.join(EXPECTS)} (or not_applicable: REASON)")
    codes = spec.get("codes") or []
    if expect == "fail" and not codes:
        raise _fail(where, "expect: fail needs codes: the failure codes that show what the page says")
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise _fail(where, "codes is a list of failure codes")
    return Expectation(expect, str(spec.get("statement", "")), tuple(codes), "", str(spec.get("note", "")))


def _detect(spec: Any, where: str) -> dict:
    if spec in (None, {}):
        return {}
    if not isinstance(spec, dict) or set(spec) - {"any", "all"} or not spec:
        raise _fail(where, "detect is {any: [rules]} or {all: [rules]}")
    for how, rules in spec.items():
        if not isinstance(rules, list) or not rules:
            raise _fail(where, f"detect.{how} is a list of rules")
        for r in rules:
            if not isinstance(r, dict) or len(r) != 1 or next(iter(r)) not in RULES \
                    or not isinstance(next(iter(r.values())), str):
                raise _fail(where, f"detect rule {r!r}: one of {', '.join(RULES)}, with a text value")
    return spec


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as e:
        raise _fail(str(path), f"cannot read it: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise _fail(str(path), f"not YAML: {' '.join(str(e).split())}") from None
    if not isinstance(data, dict):
        raise _fail(str(path), "not a mapping")
    return data


def available() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.yaml"))


def _path_of(name_or_file: str) -> Path:
    p = Path(name_or_file)
    if p.suffix in (".yaml", ".yml") or "/" in name_or_file:
        return p
    found = PROFILES / f"{name_or_file}.yaml"
    if not found.is_file():
        raise ProfileError(f"--profile: no profile {name_or_file!r}; shipped: {', '.join(available())} "
                           f"(or a file: PATH.yaml)")
    return found


def load(name_or_file: str, _seen: tuple[str, ...] = ()) -> Profile:
    """A shipped profile by name, or a user's file; `extends` resolved (a cycle is an error)."""
    path = _path_of(name_or_file)
    data = _read(path)
    where = str(path)
    extra = set(data) - TOP_KEYS
    if extra:
        raise _fail(where, f"unknown key(s) {', '.join(sorted(extra))}; known: {', '.join(sorted(TOP_KEYS))}")
    name = data.get("profile")
    if not isinstance(name, str) or not name:
        raise _fail(where, "needs `profile: NAME`")
    if name in _seen:
        raise _fail(where, f"extends itself through {' -> '.join((*_seen, name))}")
    kind = data.get("kind", "vendor")
    if kind not in ("vendor", "overlay"):
        raise _fail(where, f"kind {kind!r} is vendor or overlay")
    src = data.get("source")
    if not isinstance(src, dict) or not str(src.get("url", "")).startswith("https://") or "retrieved" not in src:
        raise _fail(where, "needs source: {url: https://..., retrieved: YYYY-MM-DD}: the page and when it was read")
    retrieved = src["retrieved"]
    if isinstance(retrieved, str):
        try:
            retrieved = dt.date.fromisoformat(retrieved)
        except ValueError:
            raise _fail(where, f"source.retrieved {retrieved!r} is not a date (YYYY-MM-DD)") from None
    if not isinstance(retrieved, dt.date):
        raise _fail(where, f"source.retrieved {retrieved!r} is not a date (YYYY-MM-DD)")
    parent = None
    if data.get("extends"):
        parent = load(str(data["extends"]), (*_seen, name))
    claims: dict[str, Expectation] = dict(parent.claims) if parent else {}
    raw = data.get("claims") or {}
    if not isinstance(raw, dict):
        raise _fail(where, "claims is a mapping of claim ids (or 'C1,C2') to what the page says")
    for key, spec in raw.items():
        for cid in _claim_ids(key, where):
            claims[cid] = _expectation(spec, f"{where} claim {cid}")
    params = {**(parent.params if parent else {}), **(data.get("params") or {})}
    return Profile(name, kind, str(data.get("title", name)), str(src["url"]), retrieved, where,
                   (name, *(parent.chain if parent else ())), _detect(data.get("detect"), where), params, claims)


# --- detection --------------------------------------------------------------------------


@dataclass
class Signals:
    """What the API server shows that the rules read (read_signals; recorded in unit tests)."""
    api_groups: set = field(default_factory=set)
    validating_webhooks: set = field(default_factory=set)
    mutating_webhooks: set = field(default_factory=set)
    crds: set = field(default_factory=set)
    node_labels: set = field(default_factory=set)   # "key" and "key=value"
    node_os_images: set = field(default_factory=set)
    server_version: str = ""


def rule_holds(rule: dict, s: Signals) -> bool:
    (kind, value), = rule.items()
    return {
        "api_group": lambda: value in s.api_groups,
        "validating_webhook": lambda: value in s.validating_webhooks,
        "mutating_webhook": lambda: value in s.mutating_webhooks,
        "crd": lambda: value in s.crds,
        "node_label": lambda: value in s.node_labels,
        "node_os_image_contains": lambda: any(value in img for img in s.node_os_images),
        "server_version_contains": lambda: value in s.server_version,
    }[kind]()


def matches(p: Profile, s: Signals) -> list[str]:
    """The rules of `p` that hold, in words; empty when it does not match."""
    held = []
    for how, rules in p.detect.items():
        ok = [f"{k}={v}" for r in rules for k, v in r.items() if rule_holds(r, s)]
        if how == "all" and len(ok) != len(rules):
            return []
        held += ok
    return held


@dataclass(frozen=True)
class Choice:
    profile: Profile
    overlays: tuple[Profile, ...]
    how: str                        # "--profile NAME" | "detected" | "no other profile matched"
    signals: dict                   # profile name -> the rules that held

    def to_dict(self, today: dt.date | None = None) -> dict:
        def one(p: Profile) -> dict:
            return {"name": p.name, "title": p.title, "source": p.url, "retrieved": p.retrieved.isoformat(),
                    "age_days": p.age_days(today), "stale": p.stale(today), "extends": list(p.chain[1:]),
                    "file": p.path}
        return {"profile": one(self.profile), "overlays": [one(o) for o in self.overlays], "chosen_by": self.how,
                "signals": self.signals}

    def in_words(self, today: dt.date | None = None) -> str:
        names = " + ".join([self.profile.name, *(o.name for o in self.overlays)])
        held = "; ".join(f"{n}: {', '.join(v)}" for n, v in self.signals.items() if v)
        stale = [p.name for p in (self.profile, *self.overlays) if p.stale(today)]
        return (f"{names} ({self.how}" + (f"; signals {held}" if held else "") + ")"
                + (f"; STALE: {', '.join(stale)} read more than {STALE_AFTER_DAYS} days ago" if stale else ""))


def choose(s: Signals, given: str | None = None, names: list[str] | None = None) -> Choice:
    """--profile's, or the vendor profile whose rules match (the most rules held; ties by name),
    else `base`; every overlay whose rules match, layered on top."""
    loaded = [load(n) for n in (names if names is not None else available())]
    held = {p.name: matches(p, s) for p in loaded}
    overlays = tuple(p for p in loaded if p.kind == "overlay" and held[p.name])
    signals = {p.name: held[p.name] for p in overlays}
    if given:
        p = load(given)
        return Choice(p, overlays, f"--profile {given}", signals)
    vendors = [(len(m), p.name, p, m) for p in loaded if p.kind == "vendor" and p.detect and (m := held[p.name])]
    if vendors:
        _, _, p, m = sorted(vendors, key=lambda v: (-v[0], v[1]))[0]
        others = [v[1] for v in vendors if v[2] is not p]
        return Choice(p, overlays, "detected" + (f", over {', '.join(others)}" if others else ""),
                      {p.name: m, **signals})
    return Choice(load("base"), overlays, "detected: no vendor profile matched", signals)


def expectation(choice: Choice, claim: str) -> tuple[Expectation, str]:
    """What the chosen profile's page says of a claim, and which profile says it (an overlay's
    word on a claim overrides the vendor profile's)."""
    for o in reversed(choice.overlays):
        if claim in o.claims:
            return o.claims[claim], o.name
    return choice.profile.expectation(claim), choice.profile.name


def read_signals(api_client) -> Signals:
    """The signals, from the API server: discovery, the version, webhook configurations, CRDs (their
    names only: a metadata list), nodes; every read at once. A list the run may not read (403)
    leaves its signal empty: detection then says less, never guesses."""
    from kubernetes import client

    from .waiting import each
    adm = client.AdmissionregistrationV1Api(api_client)

    def crd_names():
        # names only, the metadata of each (a CRD list with its schemas is megabytes on clusters with
        # many operators), never decoded into the client's models
        from .kube import list_json
        return {i["metadata"]["name"] for i in list_json(
            client.ApiextensionsV1Api(api_client).list_custom_resource_definition, _headers={
                "Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"})}

    reads = {
        "api_groups": lambda: {g.name for g in client.ApisApi(api_client).get_api_versions().groups or []},
        "server_version": lambda: client.VersionApi(api_client).get_code().git_version or "",
        "validating_webhooks": lambda: {w.name for c in adm.list_validating_webhook_configuration().items
                                        for w in (c.webhooks or [])},
        "mutating_webhooks": lambda: {w.name for c in adm.list_mutating_webhook_configuration().items
                                      for w in (c.webhooks or [])},
        "crds": crd_names,
        "nodes": lambda: client.CoreV1Api(api_client).list_node().items,
    }

    def read(fn):
        try:
            return fn()
        except client.ApiException:
            return None
    got = each(read, reads)
    s = Signals()
    for key in ("api_groups", "server_version", "validating_webhooks", "mutating_webhooks", "crds"):
        if got[key] is not None:
            setattr(s, key, got[key])
    for n in got["nodes"] or []:
        for k, v in (n.metadata.labels or {}).items():
            s.node_labels |= {k, f"{k}={v}"}
        if n.status and n.status.node_info:
            s.node_os_images.add(n.status.node_info.os_image or "")
    return s
