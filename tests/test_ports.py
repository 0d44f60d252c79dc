import subprocess
import sys
from pathlib import Path

import pytest

from hostnet_conformance.ports import PortAllocator

KEYS = ["test_c7_conflict", "test_c5_mismatch", "test_c8_in_use", "test_c5_mismatch"]


def test_ports_are_distinct_and_sorted_from_base():
    alloc = PortAllocator(21000, KEYS)
    ports = {k: alloc.port_for(k) for k in KEYS}
    assert ports == {"test_c5_mismatch": 21000, "test_c7_conflict": 21001, "test_c8_in_use": 21002}
    assert len(alloc) == 3 and alloc.ports == [21000, 21001, 21002]


def test_same_mapping_whatever_the_key_order():
    a, b = PortAllocator(21000, KEYS), PortAllocator(21000, reversed(KEYS))
    assert all(a.port_for(k) == b.port_for(k) for k in KEYS)


def test_stable_across_processes():
    # xdist workers are separate processes with their own hash seeds.
    code = ("from hostnet_conformance.ports import PortAllocator;"
            f"print(PortAllocator(21000, {KEYS!r}).port_for('test_c8_in_use'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123"})
    assert int(out.stdout) == PortAllocator(21000, KEYS).port_for("test_c8_in_use")


def test_unknown_key_is_a_clear_key_error():
    with pytest.raises(KeyError, match="no host port registered for 'nope'"):
        PortAllocator(21000, KEYS).port_for("nope")


def test_ports_in_use_on_the_nodes_are_skipped_deterministically():
    a = PortAllocator(21000, KEYS, avoid=[21001, 21000, 21003])
    assert {k: a.port_for(k) for k in KEYS} == {"test_c5_mismatch": 21002, "test_c7_conflict": 21004,
                                                "test_c8_in_use": 21005}
    assert PortAllocator(21000, reversed(KEYS), avoid=[21003, 21001, 21000]).ports == a.ports


def test_running_out_of_ports_is_a_clear_error():
    with pytest.raises(ValueError, match="no free host port left above 65534"):
        PortAllocator(65534, KEYS, avoid=[65535])


def test_listening_ports_from_proc_net():
    """/proc/net/{tcp,tcp6,udp,udp6} of a kind worker (recorded from the node container, whose
    network namespace is the one a hostNetwork pod sees)."""
    from hostnet_conformance.ports import listening_ports
    text = (Path(__file__).parent / "data" / "ports" / "proc-net-kind-worker.txt").read_text()
    ports = listening_ports(text)
    assert {10248, 10250, 10256, 179} <= ports     # kubelet healthz and API, kube-proxy healthz, kube-router BGP
    assert 20000 not in ports                      # no exporter ran when this was recorded
    assert all(0 < p <= 65535 for p in ports)
