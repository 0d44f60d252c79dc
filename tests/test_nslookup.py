"""probes.parse_nslookup on busybox 1.35's own output (Debian bookworm's busybox, the probe's and
the exporter's base), recorded against dnsmasq on loopback: the answers C3 and C4 judge."""
import pytest

from hostnet_conformance.probes import NEGATIVE_ANSWERS, fqdn, parse_nslookup

NXDOMAIN = """Server:\t\t172.18.0.3
Address:\t172.18.0.3:53

** server can't find kubernetes.default.svc.cluster.local.: NXDOMAIN

** server can't find kubernetes.default.svc.cluster.local.: NXDOMAIN

"""
REFUSED = """Server:\t\t127.0.0.5
Address:\t127.0.0.5:53

** server can't find kubernetes.: REFUSED

** server can't find kubernetes.: REFUSED

"""
# an A answer, and NXDOMAIN for the AAAA query: nslookup exits 1 all the same
FOUND = """Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

Name:\tkubernetes.default.svc.cluster.local
Address: 10.96.0.1

** server can't find kubernetes.default.svc.cluster.local.: NXDOMAIN

"""
TIMEOUT = ";; connection timed out; no servers could be reached\n\n"


def test_nxdomain_names_the_server_and_its_answer():
    r = parse_nslookup(1, NXDOMAIN, "")
    assert (r["ok"], r["answer"], r["server"], r["addresses"]) == (False, "NXDOMAIN", "172.18.0.3", [])
    assert r["answer"] in NEGATIVE_ANSWERS


def test_refused_is_an_answer():
    r = parse_nslookup(1, REFUSED, "")
    assert (r["answer"], r["server"]) == ("REFUSED", "127.0.0.5")


def test_addresses_resolve_whatever_the_exit_code():
    r = parse_nslookup(1, FOUND, "")
    assert (r["ok"], r["answer"], r["addresses"]) == (True, "NOERROR", ["10.96.0.1"])


@pytest.mark.parametrize("stdout, stderr, rc", [
    (TIMEOUT, "", 1),
    (TIMEOUT, "nslookup: write to '127.0.0.7': Connection refused\n", 1),
    ("", "", -1),                                   # the exec itself returned nothing
    ("", 'exec: "nslookup": executable file not found in $PATH', 126),
])
def test_no_server_answer_is_no_answer(stdout, stderr, rc):
    r = parse_nslookup(rc, stdout, stderr)
    assert (r["ok"], r["answer"], r["server"]) == (False, "no_answer", None)
    assert r["answer"] not in NEGATIVE_ANSWERS


def test_names_are_made_absolute():
    assert fqdn("kubernetes.default.svc.cluster.local") == "kubernetes.default.svc.cluster.local."
    assert fqdn("a.b.") == "a.b."
