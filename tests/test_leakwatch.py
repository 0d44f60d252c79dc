"""scripts/leakwatch.py, .ci/run's leak stage: its reading of tcpdump's lines, and a real window
on a veth pair whose far end is a network namespace this test makes (the only place its packets go)."""
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "leakwatch.py"
spec = importlib.util.spec_from_file_location("leakwatch", SCRIPT)
leakwatch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(leakwatch)

# tcpdump -n -q -r, as printed for packets seen leaving (recorded lines, addresses from the
# documentation ranges) and for link housekeeping that never leaves the link
LINES = """\
07:30:11.836507 IP 192.0.2.2.45321 > 198.51.100.53.53: UDP, length 40
07:30:11.836600 IP 192.0.2.2.45322 > 198.51.100.53.53: UDP, length 40
07:30:12.000001 IP 192.0.2.2.40000 > 203.0.113.9.443: tcp 0
07:30:12.100000 IP 192.0.2.2 > 203.0.113.9: ICMP echo request, id 7, seq 1, length 64
07:30:12.200000 IP6 fd00::2.5353 > 2001:db8::1.53: UDP, length 33
07:30:13.000000 IP6 fe80::fc:ff:fe00:1 > ff02::2: ICMP6, router solicitation, length 16
07:30:13.100000 IP6 fd00::2 > fd00::1: ICMP6, neighbor solicitation, who has fd00::1, length 32
07:30:13.200000 IP6 fe80::fc:ff:fe00:1 > ff02::16: HBH ICMP6, multicast listener report v2, 1 group record(s), length 28
"""


def test_each_destination_port_and_protocol_is_counted():
    leaks, ignored, answers, first = leakwatch.classify([("out", line) for line in LINES.splitlines()])
    assert dict(leaks) == {("udp", "198.51.100.53", "53"): 2, ("tcp", "203.0.113.9", "443"): 1,
                           ("icmp", "203.0.113.9", "-"): 1, ("udp", "[2001:db8::1]", "53"): 1}
    assert ignored == 3 and not answers
    assert first[("udp", "198.51.100.53", "53")] == "07:30:11.836507 IP 192.0.2.2.45321 > 198.51.100.53.53: UDP, length 40"


def test_nothing_out_is_no_leak():
    leaks, ignored, answers, _ = leakwatch.classify([("out", "reading from file w.pcap, link-type EN10MB (Ethernet)")])
    assert (dict(leaks), ignored, dict(answers)) == ({}, 0, {})


# Recorded shape of stop 28's CI failure: the gateway connect()s from even high ports to a closed
# port here; each reset this machine sends back is one packet out. Beside it, connections this
# machine starts to the same host, which stay leaks.
ANSWERS = [
    ("in", "1796398083.1 IP 192.0.2.1.33184 > 192.0.2.2.2025: tcp 0"),          # its SYN
    ("out", "1796398083.2 IP 192.0.2.2.2025 > 192.0.2.1.33184: tcp 0"),         # our RST: an answer
    ("out", "1796398083.3 IP 192.0.2.2.41000 > 192.0.2.1.33196: tcp 0"),        # our own SYN: a leak
    ("in", "1796398083.4 IP 192.0.2.1.33196 > 192.0.2.2.41000: tcp 0"),         # its RST
    ("in", "1796398083.5 IP 198.51.100.7.5353 > 192.0.2.2.9000: UDP, length 8"),
    ("out", "1796398083.6 IP 192.0.2.2.9000 > 198.51.100.7.5353: UDP, length 8"),   # UDP written to first
    ("out", "1796398083.7 IP 192.0.2.2.9001 > 198.51.100.7.5353: UDP, length 8"),   # another local port: a leak
    ("out", "1796398083.8 IP 192.0.2.2 > 198.51.100.7: ICMP 192.0.2.2 udp port 9002 unreachable, length 36"),
    ("out", "1796398083.9 IP 192.0.2.2 > 203.0.113.9: ICMP echo request, id 7, seq 1, length 64"),
]


def test_answers_to_traffic_started_elsewhere_are_named_and_not_counted():
    leaks, ignored, answers, first = leakwatch.classify(ANSWERS, frozenset({("192.0.2.1.33184", "192.0.2.2.2025")}))
    assert dict(answers) == {("tcp", "192.0.2.1", "33184"): 1, ("udp", "198.51.100.7", "5353"): 1,
                             ("icmp", "198.51.100.7", "-"): 1}
    assert dict(leaks) == {("tcp", "192.0.2.1", "33196"): 1, ("udp", "198.51.100.7", "5353"): 1,
                           ("icmp", "203.0.113.9", "-"): 1}
    assert ignored == 0


def test_a_syn_seen_only_going_out_is_never_an_answer():
    """Without the inbound SYN (the connection was this machine's, or began before the window), a
    packet out counts, even when the other side spoke first in the window."""
    rows = [("in", "1.0 IP 192.0.2.1.33184 > 192.0.2.2.2025: tcp 0"), ("out", "1.1 IP 192.0.2.2.2025 > 192.0.2.1.33184: tcp 0")]
    leaks, _, answers, _ = leakwatch.classify(rows, frozenset())
    assert dict(leaks) == {("tcp", "192.0.2.1", "33184"): 1} and not answers


@pytest.fixture
def veth(tmp_path):
    """A veth pair: hnc-lw<id>a here (169.254.<n>.1/30), its peer in a namespace of its own (.2).
    The subnet is the test's own, so two runs at once (a CI and a developer's) never share a route."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tcpdump"):
        pytest.skip("needs root, iproute2 and tcpdump (.ci/run installs tcpdump)")
    tag = uuid.uuid4().hex[:6]
    net = f"169.254.{10 + int(tag, 16) % 240}"
    ns, a, b = f"hnc-lw-{tag}", f"hnclw{tag}a", f"hnclw{tag}b"
    sh = lambda *c: subprocess.run(c, check=True, capture_output=True, timeout=30)  # noqa: E731
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", b, "netns", ns)
        sh("ip", "addr", "add", f"{net}.1/30", "dev", a)
        sh("ip", "link", "set", a, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{net}.2/30", "dev", b)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", b, "up")
        yield a, f"{net}.2"
    finally:
        subprocess.run(["ip", "link", "del", a], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def leak_cmd(out, *args):
    return subprocess.run([sys.executable, str(SCRIPT), *args[:1], str(out), *args[1:]], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "HNC_LEAKWATCH_IFACE": veth_name[0]})


veth_name = [""]


def test_a_window_names_what_left(veth, tmp_path):
    veth_name[0], peer = veth
    r = leak_cmd(tmp_path, "start", "w1")
    assert r.returncode == 0, r.stderr
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(3):
            s.sendto(b"hnc", (peer, 9))
    # the packets wait for ARP before they go out: stop once all three are in the capture file
    pcap, deadline = tmp_path / "w1.pcap", time.monotonic() + 10
    while pcap.stat().st_size < 24 + 3 * (16 + 45) and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    r = leak_cmd(tmp_path, "stop", "w1")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"LEAK udp {peer}:9 (3 packets)" in r.stdout
    data = json.loads((tmp_path / "w1.json").read_text())
    assert data["leaked"] == 3 and data["interface"] == veth_name[0]


def test_a_reset_for_a_connection_from_outside_is_an_answer(veth, tmp_path):
    """The far end connects to a closed port here: the reset this machine sends is named, not counted."""
    veth_name[0], peer = veth
    local = peer.rsplit(".", 1)[0] + ".1"
    ns = subprocess.run(["ip", "-j", "link", "show", "dev", veth_name[0]], capture_output=True, text=True).stdout
    assert leak_cmd(tmp_path, "start", "w3").returncode == 0
    probe = ("import socket\nfor _ in range(2):\n    s = socket.socket(); s.settimeout(5)\n    try:\n"
             f"        s.connect(({local!r}, 9))\n    except OSError:\n        pass\n    s.close()\n")
    netns = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
             if n.startswith("hnc-lw-") and n[7:] in veth_name[0]][0]
    subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", probe], check=True, timeout=30)
    pcap, deadline = tmp_path / "w3.pcap", time.monotonic() + 10
    while pcap.stat().st_size < 24 + 4 * (16 + 54) and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    r = leak_cmd(tmp_path, "stop", "w3")
    assert r.returncode == 0, r.stdout + r.stderr + ns
    assert "0 packets left the machine" in r.stdout and "answered (not counted): tcp " + peer in r.stdout, r.stdout
    data = json.loads((tmp_path / "w3.json").read_text())
    assert data["leaked"] == 0 and data["answers"] == 2 and data["packets_in"] >= 2


def test_a_quiet_window_passes(veth, tmp_path):
    veth_name[0] = veth[0]
    assert leak_cmd(tmp_path, "start", "w2").returncode == 0
    r = leak_cmd(tmp_path, "stop", "w2")
    assert r.returncode == 0 and "0 packets left the machine" in r.stdout, r.stdout + r.stderr


def test_bad_input_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, str(SCRIPT), "stop", str(tmp_path), "never-started"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("leakwatch: "), r.stderr


def _window(out, name, leaks):
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps({
        "window": name, "interface": "eth0", "packets_out": 3, "leaked": sum(x["packets"] for x in leaks),
        "link_housekeeping": 0, "leaks": leaks}))


def test_summary_names_each_window_and_fails_on_a_leak(tmp_path):
    """.ci/run's last stage (it once crashed there: an f-string Python 3.11 cannot parse)."""
    out = tmp_path / "leaks"
    _window(out, "suite", [])
    _window(out, "flavours-own", [{"proto": "tcp", "destination": "10.244.0.3", "port": "57272", "packets": 2}])
    r = subprocess.run([sys.executable, str(SCRIPT), "summary", str(out)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "suite: 0 packets left the machine on eth0" in r.stdout
    assert "flavours-own: 2 packets left the machine on eth0" in r.stdout
    assert "LEAK tcp 10.244.0.3:57272 (2 packets)" in r.stdout
    assert "leak check FAILED in: flavours-own" in r.stdout


def test_summary_of_quiet_windows_passes_and_of_none_is_one_line(tmp_path):
    out = tmp_path / "leaks"
    _window(out, "suite", [])
    r = subprocess.run([sys.executable, str(SCRIPT), "summary", str(out)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "leak check: 0 packets left the machine" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([sys.executable, str(SCRIPT), "summary", str(tmp_path / "none")], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no window was stopped" in r.stderr, r.stderr
