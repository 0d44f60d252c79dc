import subprocess
import sys

import pytest

from hostnet_conformance.ports import PortAllocator

KEYS = ["test_c7_conflict", "test_c5_mismatch", "test_c8_in_use", "test_c5_mismatch"]


def test_ports_are_distinct_and_sorted_from_base():
    alloc = PortAllocator(21000, KEYS)
    ports = {k: alloc.port_for(k) for k in KEYS}
    assert ports == {"test_c5_mismatch": 21000, "test_c7_conflict": 21001, "test_c8_in_use": 21002}
    assert len(alloc) == 3 and alloc.ports == range(21000, 21003)


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
