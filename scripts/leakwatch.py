#!/usr/bin/env python3
"""Watch the machine's uplink for packets that leave it (issue 19): .ci/run's leak stage.

    leakwatch.py start DIR NAME   start tcpdump on the default route's interface (both directions)
    leakwatch.py stop DIR NAME    stop it, print what left the machine, exit 1 if anything did
    leakwatch.py summary DIR      one line per window stopped in DIR; exit 1 if any window leaked

A window is the time between start and stop: .ci/run opens one around the fresh-cluster suite and
one around each flavour run, so the build's own registry traffic falls outside them. Every IP packet
the machine sends out of that interface inside a window counts, whoever sent it (the kind nodes and
their pods leave through the host's NAT with the host's address, so the capture cannot tell them
from the suite's own process; nothing else runs in CI meanwhile). Not counted, and each named:
- link housekeeping that never leaves the link (ARP, IPv6 neighbour and router discovery,
  multicast listener reports);
- answers to traffic another host started: packets of a TCP connection whose SYN came IN during
  the window (a reset for a closed port, say), UDP to a host and port that wrote to this one first,
  ICMP to a host that sent something first. The capture keeps both directions for this, and tells
  them apart by the interface's MAC address. (CI once failed on 11 single TCP packets to the
  gateway's even-numbered high ports, as a reset answers a connect() made from outside.)
Each leak is printed as `LEAK <proto> <destination>:<port> (<n> packets) first: <packet>`; DIR/NAME.json
keeps the counts for docs/benchmarks.md. tcpdump comes from Debian's packages (installed here
when missing)."""
from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bounded  # noqa: E402  (scripts/bounded.py)

LINK_LOCAL = re.compile(r"ICMP6, (neighbor (solicitation|advertisement)|router (solicitation|advertisement)|"
                        r"multicast listener)")
# `tcpdump -q`: `12:00:00.1 IP 192.0.2.2.45321 > 10.255.255.53.53: UDP, length 40`,
# `... IP 192.0.2.2.40000 > 203.0.113.9.443: tcp 0`, `... IP6 fd00::2 > fd00::1: ICMP6, echo request, ...`
PACKET = re.compile(r"^(?:\S+ )?(IP6?) (\S+) > (\S+): (.*)$")
# A TCP SYN without ACK, IPv4 or IPv6 (no extension header: a SYN carries none here)
SYN = "((ip and tcp[13] & 0x12 == 0x02) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02))"


def die(msg: str) -> None:
    print(f"leakwatch: {msg}", file=sys.stderr)
    sys.exit(2)


def run(cmd: list[str], timeout: float, **popen) -> subprocess.CompletedProcess:
    """bounded.run (a deadline that also holds when a child keeps the pipes open), a one-line error."""
    try:
        return bounded.run(cmd, timeout, capture_output=True, text=True, **popen)
    except bounded.TimedOut:
        die(f"timed out after {timeout:.0f} s: {' '.join(cmd)}")
    except FileNotFoundError:
        die(f"{cmd[0]} is not installed")


def uplink() -> str:
    """The interface of the default route (IPv4, else IPv6)."""
    for family in ("-4", "-6"):
        out = run(["ip", family, "-j", "route", "show", "default"], 10).stdout
        routes = json.loads(out or "[]")
        if routes and routes[0].get("dev"):
            return routes[0]["dev"]
    die("this machine has no default route: nothing can leave it, and there is nothing to watch")


def iface_mac(dev: str) -> str:
    """The interface's own MAC address: what every packet it sends carries as its source."""
    r = run(["ip", "-j", "link", "show", "dev", dev], 10)
    try:
        mac = json.loads(r.stdout)[0]["address"]
    except (ValueError, LookupError, TypeError):
        die(f"ip link show dev {dev}: no MAC address in {(r.stdout or r.stderr).strip()[:200]!r}")
    if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac):
        die(f"{dev} has no Ethernet address ({mac!r}): its packets cannot be told from those it receives")
    return mac


def ensure_tcpdump() -> str:
    found = shutil.which("tcpdump") or (os.path.exists("/usr/bin/tcpdump") and "/usr/bin/tcpdump")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "tcpdump"]

    r = run(cmd, 900, env=env)
    if r.returncode != 0:   # a fresh machine: the package lists first
        run(["apt-get", "update"], 900)
        r = run(cmd, 900, env=env)
    if r.returncode != 0:
        die(f"apt-get install tcpdump failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    return shutil.which("tcpdump") or die("tcpdump is not on PATH after installing it")


def start(out: Path, name: str) -> None:
    tcpdump = ensure_tcpdump()
    dev = os.environ.get("HNC_LEAKWATCH_IFACE") or uplink()   # the override is for the project's tests
    out.mkdir(parents=True, exist_ok=True)
    pcap, err = out / f"{name}.pcap", out / f"{name}.tcpdump.log"
    for p in (pcap, err):
        p.unlink(missing_ok=True)
    mac = iface_mac(dev)
    with open(err, "w") as log:
        proc = subprocess.Popen([tcpdump, "-i", dev, "-n", "-U", "-w", str(pcap), "not", "arp"],
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    (out / f"{name}.pid").write_text(f"{proc.pid}\n{dev}\n{mac}\n")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:   # tcpdump says "listening on" once the capture is live
        if "listening on" in err.read_text():
            print(f"leakwatch: watching {dev} ({mac}, both directions) for window {name!r}")
            return
        if proc.poll() is not None:
            die(f"tcpdump on {dev} exited {proc.returncode}: {err.read_text().strip()[-300:]}")
        try:
            proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    die(f"timed out after 20 s: tcpdump on {dev} never said it was listening")


def _proto(rest: str) -> str:
    word = rest.split(",")[0].split()[0].lower() if rest.strip() else "ip"
    return {"icmp6": "icmp6", "icmp": "icmp", "udp": "udp", "tcp": "tcp"}.get(word, word)


def _host(endpoint: str, proto: str) -> str:
    return endpoint.rpartition(".")[0] if proto in ("udp", "tcp") else endpoint


def classify(rows: list[tuple[str, str]], syns: frozenset = frozenset()
             ) -> tuple[collections.Counter, int, collections.Counter, dict]:
    """Packets in capture order, as (direction "in"|"out", what `tcpdump -n -q` printed), and the
    (source, destination) endpoints of the TCP SYNs that came in. Returns (Counter of (proto,
    destination, port) for the packets that left, count of link housekeeping packets not counted,
    Counter of (proto, remote, port) for the answers to traffic started elsewhere, first line of each leak)."""
    leaks: collections.Counter = collections.Counter()
    answers: collections.Counter = collections.Counter()
    first: dict = {}
    ignored = 0
    heard: set = set()          # (proto, remote endpoint, local endpoint) that wrote to this machine first
    heard_hosts: set = set()    # hosts that sent anything in the window
    for direction, line in rows:
        m = PACKET.match(line.strip())
        if not m:
            continue
        family, src, dst, rest = m.groups()
        proto = _proto(rest)
        if direction == "in":
            heard.add((proto, src, dst))
            heard_hosts.add(_host(src, proto))
            continue
        if LINK_LOCAL.search(rest):
            ignored += 1
            continue
        host, port = dst, "-"
        if proto in ("udp", "tcp"):
            host, _, port = dst.rpartition(".")
        if proto == "tcp":
            answer = (dst, src) in syns
        elif proto == "udp":
            answer = ("udp", dst, src) in heard
        elif proto in ("icmp", "icmp6"):
            answer = host in heard_hosts
        else:
            answer = False
        if family == "IP6" and port != "-":
            host = f"[{host}]"
        if answer:
            answers[(proto, host, port)] += 1
        else:
            leaks[(proto, host, port)] += 1
            first.setdefault((proto, host, port), line.strip())
    return leaks, ignored, answers, first


def read_capture(tcpdump: str, pcap: Path, mac: str) -> tuple[list[tuple[str, str]], frozenset]:
    """The window's packets in capture order, each tagged in or out by its source MAC, and the
    endpoints of the TCP SYNs that came in."""
    def lines(expr: str) -> list[tuple[float, str]]:
        r = run([tcpdump, "-n", "-q", "-tt", "-r", str(pcap), expr], 120)
        if r.returncode != 0:
            die(f"tcpdump -r {pcap} {expr!r} exited {r.returncode}: {r.stderr.strip()[-300:]}")
        rows = []
        for line in r.stdout.splitlines():
            ts, _, rest = line.partition(" ")
            try:
                rows.append((float(ts), rest))
            except ValueError:
                continue
        return rows
    tagged = [(t, 0, "in", line) for t, line in lines(f"not ether src {mac}")]
    tagged += [(t, 1, "out", line) for t, line in lines(f"ether src {mac}")]
    tagged.sort(key=lambda r: (r[0], r[1]))   # the same microsecond: what came in first
    syns = set()
    for _t, line in lines(f"not ether src {mac} and {SYN}"):
        m = PACKET.match(line.strip())
        if m:
            syns.add((m.group(2), m.group(3)))
    return [(d, line) for _t, _o, d, line in tagged], frozenset(syns)


def stop(out: Path, name: str) -> int:
    pidfile = out / f"{name}.pid"
    if not pidfile.exists():
        die(f"no window {name!r} was started in {out}")
    fields = pidfile.read_text().split()
    pid_s, dev = fields[:2]
    mac = fields[2] if len(fields) > 2 else iface_mac(dev)
    pid = int(pid_s)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        die(f"tcpdump of window {name!r} is gone before its end: {(out / f'{name}.tcpdump.log').read_text()[-300:]}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        try:   # our own child only when started by this process; otherwise poll with a short wait
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        signal.sigtimedwait([signal.SIGCHLD], 0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink()
    rows, syns = read_capture(ensure_tcpdump(), out / f"{name}.pcap", mac)
    leaks, ignored, answers, first = classify(rows, syns)
    total = sum(leaks.values())
    (out / f"{name}.json").write_text(json.dumps({
        "window": name, "interface": dev, "packets_out": sum(1 for d, _ in rows if d == "out"),
        "packets_in": sum(1 for d, _ in rows if d == "in"), "leaked": total,
        "link_housekeeping": ignored, "answers": sum(answers.values()),
        "leaks": [{"proto": p, "destination": d, "port": port, "packets": n, "first": first[(p, d, port)]}
                  for (p, d, port), n in leaks.items()],
        "answered": [{"proto": p, "destination": d, "port": port, "packets": n}
                     for (p, d, port), n in answers.items()]},
        indent=2) + "\n")
    print(f"leakwatch: window {name!r}: {total} packets left the machine on {dev} "
          f"({ignored} link housekeeping packets and {sum(answers.values())} answers to traffic "
          f"started elsewhere not counted)")
    for (proto, dest, port), n in leaks.most_common():
        print(f"LEAK {proto} {dest}{':' + port if port != '-' else ''} ({n} packets) first: "
              f"{first[(proto, dest, port)]}")
    for (proto, dest, port), n in answers.most_common(20):
        print(f"answered (not counted): {proto} {dest}{':' + port if port != '-' else ''} ({n} packets)")
    return 1 if total else 0


def summary(out: Path) -> int:
    """One line per window whose stop wrote DIR/NAME.json, in the order they were stopped."""
    files = sorted(out.glob("*.json"), key=lambda f: f.stat().st_mtime) if out.is_dir() else []
    if not files:
        die(f"no window was stopped in {out}")
    leaked = []
    for f in files:
        try:
            d = json.loads(f.read_text())
            line = f"{d['window']}: {d['leaked']} packets left the machine on {d['interface']}"
        except (ValueError, KeyError, TypeError) as e:
            die(f"{f}: not a window's record ({type(e).__name__}: {e})")
        if d.get("answers"):
            line += f" ({d['answers']} answers to traffic started elsewhere not counted)"
        print(line)
        for leak in d.get("leaks", []):
            port = leak["port"]
            print(f"  LEAK {leak['proto']} {leak['destination']}{':' + port if port != '-' else ''} "
                  f"({leak['packets']} packets)" + (f" first: {leak['first']}" if leak.get("first") else ""))
        for ans in d.get("answered", [])[:20]:
            port = ans["port"]
            print(f"  answered (not counted): {ans['proto']} {ans['destination']}"
                  f"{':' + port if port != '-' else ''} ({ans['packets']} packets)")
        if d["leaked"]:
            leaked.append(d["window"])
    if leaked:
        print(f"leak check FAILED in: {' '.join(leaked)}")
        return 1
    print("leak check: 0 packets left the machine")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "summary":
        return summary(Path(argv[1]))
    if len(argv) != 3 or argv[0] not in ("start", "stop"):
        die("usage: leakwatch.py start|stop DIR NAME, or leakwatch.py summary DIR")
    if os.geteuid() != 0:
        die("capturing packets needs root")
    cmd, out, name = argv[0], Path(argv[1]), argv[2]
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        die(f"window name {name!r}: letters, digits, '.', '_' and '-' only")
    if cmd == "start":
        start(out, name)
        return 0
    return stop(out, name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
