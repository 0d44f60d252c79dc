"""C3's and C4's lookup (claims/dns.py): asked again while no nameserver answers, for up to LOOKUP_WAIT s,
ended by any answer a server gives. Seen in CI (flavour k, one node): kube-proxy still rejected cluster
DNS's Service address (`write to '10.96.0.10': Operation not permitted`) while the API listed its endpoint
as ready."""
from __future__ import annotations

from types import SimpleNamespace

from hostnet_conformance.claims import dns
from hostnet_conformance.kube import ExecResult

REJECTED = ExecResult(1, "", ";; connection timed out; no servers could be reached\n"
                             "nslookup: write to '10.96.0.10': Operation not permitted\n")
ANSWERED = ExecResult(0, "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tkubernetes.default.svc.cluster.local\n"
                         "Address: 10.96.0.1\n", "")
POD = SimpleNamespace(metadata=SimpleNamespace(namespace="ns", name="p"),
                      spec=SimpleNamespace(containers=[SimpleNamespace(name="c")]))


def _execs(monkeypatch, answers):
    calls = []

    def exec_pod(env, pod, *cmd, timeout=30):
        calls.append(cmd)
        return answers[min(len(calls), len(answers)) - 1]
    monkeypatch.setattr(dns, "exec_pod", exec_pod)
    return calls


def test_a_lookup_no_server_answered_is_asked_again_until_one_answers(monkeypatch):
    calls = _execs(monkeypatch, [REJECTED, REJECTED, ANSWERED])
    last, n = dns._lookup_until_answered(None, POD, "kubernetes.default.svc.cluster.local.")
    assert n == 3 and last["rc"] == 0 and len(calls) == 3
    assert dns.lookup(last)["answer"] == "NOERROR"


def test_an_answer_or_a_lost_exec_ends_it_at_once(monkeypatch):
    nx = ExecResult(1, "Server:\t\t10.96.0.10\n", "** server can't find x.: NXDOMAIN\n")
    _execs(monkeypatch, [nx])
    assert dns._lookup_until_answered(None, POD, "x.")[1] == 1
    _execs(monkeypatch, [ExecResult(-1, "", "error dialing backend")])
    assert dns._lookup_until_answered(None, POD, "x.")[1] == 1


def test_no_server_for_the_whole_wait_keeps_the_last_lookup(monkeypatch):
    monkeypatch.setattr(dns, "LOOKUP_WAIT", 1)
    _execs(monkeypatch, [REJECTED])
    last, n = dns._lookup_until_answered(None, POD, "x.")
    assert n >= 1 and dns.lookup(last)["answer"] == "no_answer"
    assert "Operation not permitted" in dns.lookup(last)["output"]
