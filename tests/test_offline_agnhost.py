"""The offline stand-in of upstream's agnhost e2e image against upstream's own recipe.

Upstream builds agnhost from k8s.io/kubernetes test/images/agnhost/Dockerfile; the stand-in is
scripts/offline/images/agnhost.Dockerfile (on the Debian tools image, e2e-tools.Dockerfile), its build
context filled by scripts/offline/build-e2e.sh. Every file upstream ADDs or COPYs must reach the same
path in the stand-in, taken from the same place (the module's test/images/agnhost directory, or the
agnhost binary built from it); EXPOSE, ENTRYPOINT, CMD and the other image settings must be upstream's;
what upstream's RUN lines leave in the image must be there too.

Upstream's Dockerfile is read from the Go module cache when the pinned module is there, and always from
the verbatim copy in tests/data/agnhost (so CI, which has no module cache, checks it too). No Docker, Go
or network: build-e2e.sh's context and cache-key functions run in bash on files made here."""
from __future__ import annotations

import functools
import json
import os
import posixpath
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = ROOT / "scripts" / "offline"
OURS = OFFLINE / "images" / "agnhost.Dockerfile"
TOOLS = OFFLINE / "images" / "e2e-tools.Dockerfile"
BUILD = OFFLINE / "build-e2e.sh"
RECORDED = ROOT / "tests" / "data" / "agnhost"


def k8s_version() -> str:
    return re.search(r"^K8S_VERSION=(\S+)$", (OFFLINE / "versions.env").read_text(), re.M).group(1)


@functools.cache
def module_dir() -> Path | None:
    """test/images/agnhost of the pinned k8s.io/kubernetes in the Go module cache, as build-e2e.sh finds it."""
    cache = os.environ.get("GOMODCACHE", "")
    if not cache and shutil.which("go"):
        r = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, timeout=60)
        cache = r.stdout.strip() if r.returncode == 0 else ""
    if not cache:
        return None
    d = Path(cache) / "k8s.io" / f"kubernetes@{k8s_version()}" / "test" / "images" / "agnhost"
    return d if (d / "Dockerfile").is_file() else None


def need_module() -> Path:
    d = module_dir()
    if d is None:
        pytest.skip(f"k8s.io/kubernetes@{k8s_version()} is not in the Go module cache (`go env GOMODCACHE`; "
                    "scripts/offline/build-e2e.sh fetches it): only the recorded copy in tests/data/agnhost is checked")
    return d


# ---- Dockerfiles, read as docker reads them

@dataclass(frozen=True)
class Instr:
    op: str
    args: str  # white space folded


@dataclass(frozen=True)
class Copy:
    src: str   # as named in the Dockerfile (a path in the build context, or a URL)
    dest: str  # the absolute path in the image


def parse(text: str) -> list[Instr]:
    out, buf = [], ""
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#") or not s:
            continue  # comments and empty lines, also between continued lines (docker skips both)
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        op, _, args = (buf + s).strip().partition(" ")
        out.append(Instr(op.upper(), " ".join(args.split())))
        buf = ""
    assert not buf, "a continued line with nothing after it"
    return out


def upstream_linux_amd64(text: str) -> list[Instr]:
    """Upstream's Dockerfile as test/images/image-util.sh hands it to docker for linux/amd64 on x86_64:
    CROSS_BUILD_ lines deleted, BASEARCH replaced by the architecture."""
    return parse("\n".join(line for line in text.splitlines() if "CROSS_BUILD_" not in line).replace("BASEARCH", "amd64"))


def copies(instrs: list[Instr]) -> list[Copy]:
    workdir, out = "/", []
    for i in instrs:
        if i.op == "WORKDIR":
            workdir = posixpath.join(workdir, i.args)
        if i.op in ("ADD", "COPY"):
            flags = [w for w in i.args.split() if w.startswith("--")]
            assert not flags, f"{i.op} {i.args}: flags are not compared here"
            *srcs, dest = i.args.split()
            for src in srcs:
                d = posixpath.join(workdir, dest)
                if dest.endswith("/") or len(srcs) > 1:
                    d = posixpath.join(d, posixpath.basename(src))
                out.append(Copy(src, posixpath.normpath(d)))
    return out


def settings(instrs: list[Instr]) -> dict[str, object]:
    """The image settings a Dockerfile gives, as docker keeps them."""
    out: dict[str, object] = {"WORKDIR": "/"}
    for i in instrs:
        if i.op == "WORKDIR":
            out["WORKDIR"] = posixpath.normpath(posixpath.join(out["WORKDIR"], i.args))
        elif i.op == "EXPOSE":
            out["EXPOSE"] = out.get("EXPOSE", set()) | {p if "/" in p else p + "/tcp" for p in i.args.split()}
        elif i.op in ("ENTRYPOINT", "CMD", "SHELL"):
            out[i.op] = json.loads(i.args) if i.args.startswith("[") else ["/bin/sh", "-c", i.args]
        elif i.op in ("ENV", "LABEL", "VOLUME", "USER", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD"):
            out.setdefault(i.op, []).append(i.args)
    return out


KNOWN_OPS = {"ARG", "FROM", "RUN", "ADD", "COPY", "WORKDIR", "EXPOSE", "ENTRYPOINT", "CMD", "SHELL", "ENV", "LABEL",
             "VOLUME", "USER", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD"}

# What upstream ADDs from a URL, which the stand-in never downloads: the file our build copies in its
# place (the context path agnhost.Dockerfile COPYs) and where upstream's image has it (the archive is
# unpacked by the RUN after the ADD, in /). coredns is the cluster's own CoreDNS build.
URL_STANDINS = {
    r"https://github\.com/coredns/coredns/releases/download/v[\d.]+/coredns_[\d.]+_linux_amd64\.tgz":
        Copy("coredns", "/coredns"),
}
# Files upstream's build makes in test/images/agnhost before `docker build` (the directory's
# .gitignore lists them): not in the module, built by build-e2e.sh.
BUILT = {"agnhost"}
# upstream's apk packages -> the Debian package e2e-tools.Dockerfile installs for each
APK_TO_DEBIAN = {"bind-tools": "bind9-dnsutils", "curl": "curl", "netcat-openbsd": "netcat-openbsd",
                 "iproute2": "iproute2", "iperf": "iperf", "bash": "bash"}
# Each RUN of upstream's (white space folded) -> what the stand-in's RUN lines must do for it.
# A RUN of upstream's not listed here fails the test: what it puts in the image is then unchecked.
RUN_TRANSLATIONS = {
    "apk --update add bind-tools curl netcat-openbsd iproute2 iperf bash && rm -rf /var/cache/apk/* "
    "&& ln -s /usr/bin/iperf /usr/local/bin/iperf && ls -altrh /usr/local/bin/iperf":
        ["ln -s /usr/bin/iperf /usr/local/bin/iperf"],  # the packages: APK_TO_DEBIAN
    "tar -xzvf /coredns.tgz && rm -f /coredns.tgz": [],  # the archive's coredns: URL_STANDINS
    "mkdir /uploads": ["mkdir /uploads"],
    "ln -s agnhost agnhost-2": ["ln -s agnhost /agnhost-2"],
    "adduser -u 1000 -D user-defined-in-image && addgroup -g 50000 group-defined-in-image "
    "&& addgroup user-defined-in-image group-defined-in-image":
        ["groupadd -g 1000 user-defined-in-image", "groupadd -g 50000 group-defined-in-image",
         "useradd -u 1000 -g 1000 -G group-defined-in-image -m user-defined-in-image"],
}


def upstream_text(which: str) -> str:
    if which == "module":
        return (need_module() / "Dockerfile").read_text()
    return (RECORDED / "Dockerfile").read_text()


def expected_copies(upstream: list[Instr]) -> set[Copy]:
    """What our Dockerfile must COPY for each ADD/COPY of upstream's."""
    out = set()
    for c in copies(upstream):
        if re.match(r"https?://", c.src):
            standin = [s for pat, s in URL_STANDINS.items() if re.fullmatch(pat, c.src)]
            assert standin, f"upstream ADDs {c.src} to {c.dest}: no stand-in is named for it (URL_STANDINS)"
            out |= set(standin)
        else:
            out.add(c)
    return out


def check_stand_in(upstream_dockerfile: str, ours_text: str, tools_text: str) -> None:
    up, ours, tools = upstream_linux_amd64(upstream_dockerfile), parse(ours_text), parse(tools_text)
    assert [i.op for i in up].count("FROM") == 1 and [i.op for i in ours].count("FROM") == 1
    assert not {i.op for i in up} - KNOWN_OPS, f"upstream uses {({i.op for i in up} - KNOWN_OPS)}: not compared here"

    # every file upstream puts in the image, at the same path, and nothing else
    want, have = expected_copies(up), set(copies(ours))
    missing = sorted((c.src, c.dest) for c in want - have)
    extra = sorted((c.src, c.dest) for c in have - want)
    assert not missing, f"upstream puts these in its image, the stand-in does not: {missing}"
    assert not extra, f"the stand-in copies what upstream does not: {extra}"
    assert not copies(tools), "the tools image copies nothing: the agnhost image does"

    # EXPOSE, ENTRYPOINT, CMD, WORKDIR (porter reads localhost.crt from it) and the rest: upstream's
    ours_settings = settings(tools + ours)
    assert ours_settings == settings(up), f"image settings differ: ours {ours_settings}, upstream {settings(up)}"

    # what upstream's RUN lines leave in the image
    our_runs = " ; ".join(i.args for i in tools + ours if i.op == "RUN")
    apt = re.search(r"apt-get install ([^&]*)", our_runs)
    debian = set(apt.group(1).split()) if apt else set()
    for run in (i.args for i in up if i.op == "RUN"):
        assert run in RUN_TRANSLATIONS, f"upstream runs `{run}`: the stand-in has no counterpart (RUN_TRANSLATIONS)"
        for fragment in RUN_TRANSLATIONS[run]:
            assert fragment in our_runs, f"upstream runs `{run}`; the stand-in lacks `{fragment}`"
        apk = re.search(r"apk (?:--update )?add ([^&]*)", run)
        for pkg in apk.group(1).split() if apk else []:
            assert pkg in APK_TO_DEBIAN, f"upstream installs apk package {pkg}: no Debian counterpart named"
            assert APK_TO_DEBIAN[pkg] in debian, f"upstream installs {pkg}; e2e-tools.Dockerfile lacks {APK_TO_DEBIAN[pkg]}"


# ---- the recorded copy

def test_recorded_copy_names_the_pinned_version():
    source = re.search(r"^source: k8s\.io/kubernetes@(\S+) test/images/agnhost/Dockerfile$",
                       (RECORDED / "README.md").read_text(), re.M)
    assert source, "tests/data/agnhost/README.md names no source line"
    assert source.group(1) == k8s_version(), (
        f"tests/data/agnhost/Dockerfile is of {source.group(1)}, versions.env pins {k8s_version()}: record it again")


def test_recorded_copy_is_upstreams_verbatim():
    d = need_module()
    assert (RECORDED / "Dockerfile").read_bytes() == (d / "Dockerfile").read_bytes(), (
        f"tests/data/agnhost/Dockerfile differs from {d / 'Dockerfile'}: record it again")


def test_module_holds_every_file_upstream_copies_but_the_built_ones():
    d = need_module()
    ignored = set((d / ".gitignore").read_text().split())
    assert BUILT <= ignored, f"{d}/.gitignore no longer lists {BUILT - ignored}: is it still built?"
    for c in copies(upstream_linux_amd64((d / "Dockerfile").read_text())):
        if not re.match(r"https?://", c.src) and c.src not in BUILT:
            assert (d / c.src).is_file(), f"upstream copies {c.src}, the module has no {d / c.src}"


# ---- the stand-in's Dockerfile against upstream's

@pytest.mark.parametrize("which", ["recorded", "module"])
def test_stand_in_has_upstreams_files_and_settings(which):
    check_stand_in(upstream_text(which), OURS.read_text(), TOOLS.read_text())


def test_porter_tls_files_are_among_them():
    want = expected_copies(upstream_linux_amd64((RECORDED / "Dockerfile").read_text()))
    assert {Copy("porter/localhost.crt", "/localhost.crt"), Copy("porter/localhost.key", "/localhost.key")} <= want


@pytest.mark.parametrize("drop", ["COPY porter/localhost.key /localhost.key", "COPY coredns /coredns",
                                  "EXPOSE 80 8080 8081 9376 5000", 'CMD ["pause"]', "&& mkdir /uploads \\"])
def test_the_check_fails_on_a_stand_in_missing_one_of_them(drop):
    ours = OURS.read_text()
    assert drop in ours
    with pytest.raises(AssertionError):
        check_stand_in((RECORDED / "Dockerfile").read_text(), ours.replace(drop, ""), TOOLS.read_text())


def test_the_check_fails_on_a_copy_to_another_path():
    ours = OURS.read_text().replace("COPY porter/localhost.crt /localhost.crt", "COPY porter/localhost.crt /etc/localhost.crt")
    with pytest.raises(AssertionError, match="localhost.crt"):
        check_stand_in((RECORDED / "Dockerfile").read_text(), ours, TOOLS.read_text())


def test_the_check_fails_on_a_new_upstream_file():
    upstream = (RECORDED / "Dockerfile").read_text().replace("ADD agnhost agnhost", "ADD agnhost agnhost\nADD fakegitserver.sh /")
    with pytest.raises(AssertionError, match="fakegitserver.sh"):
        check_stand_in(upstream, OURS.read_text(), TOOLS.read_text())


# ---- build-e2e.sh: the build context it fills and the key it keeps

def script_function(name: str) -> str:
    m = re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", BUILD.read_text(), re.M | re.S)
    assert m, f"build-e2e.sh defines no {name}()"
    return m.group(0)


def bash(body: str, **env: str) -> subprocess.CompletedProcess:
    script = ("set -euo pipefail\ndie() { echo \"die: $2\" >&2; exit 1; }\n"
              + script_function("agnhost_context") + script_function("context_key") + body)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "IMG_DIR": str(OURS.parent), **env})


def fake_build(tmp_path: Path, module: Path | None) -> tuple[Path, dict[str, bytes]]:
    """A module directory (the real one if given), a built agnhost and a CoreDNS build; what each
    context path must hold."""
    if module is None:
        module = tmp_path / "module"
        for c in expected_copies(upstream_linux_amd64((RECORDED / "Dockerfile").read_text())):
            if c.src not in BUILT and c.src != "coredns":
                (module / c.src).parent.mkdir(parents=True, exist_ok=True)
                (module / c.src).write_bytes(f"module file {c.src}\n".encode())
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "agnhost").write_bytes(b"agnhost built from the module\n")
    (tmp_path / "cache" / "gobin").mkdir(parents=True)
    (tmp_path / "cache" / "gobin" / "coredns").write_bytes(b"coredns built by build-go-tools.sh\n")
    sources = {"agnhost": tmp_path / "out" / "agnhost", "coredns": tmp_path / "cache" / "gobin" / "coredns"}
    want = {c.src: (sources.get(c.src) or module / c.src).read_bytes() for c in copies(parse(OURS.read_text()))}
    return module, want


@pytest.mark.parametrize("which", ["made here", "module"])
def test_build_context_holds_each_copied_file_from_its_source(tmp_path, which):
    module, want = fake_build(tmp_path, need_module() if which == "module" else None)
    ctx = tmp_path / "ctx"
    r = bash(f'agnhost_context "{module}" "{ctx}"\n', OUT=str(tmp_path / "out"),
             CACHE=str(tmp_path / "cache"))
    assert r.returncode == 0, r.stderr
    have = {str(p.relative_to(ctx)): p.read_bytes() for p in ctx.rglob("*") if p.is_file()}
    assert have == want
    assert {"porter/localhost.crt", "porter/localhost.key", "agnhost", "coredns"} <= set(have)


def test_build_context_stops_on_a_file_the_module_lacks(tmp_path):
    module, _ = fake_build(tmp_path, None)
    (module / "porter" / "localhost.key").unlink()
    r = bash(f'agnhost_context {module} {tmp_path / "ctx"}\necho "not reached"\n',
             OUT=str(tmp_path / "out"), CACHE=str(tmp_path / "cache"))
    assert r.returncode == 1 and "not reached" not in r.stdout
    assert "copies porter/localhost.key" in r.stderr


def test_image_key_covers_every_context_file(tmp_path):
    module, _ = fake_build(tmp_path, None)
    ctx = tmp_path / "ctx"
    env = {"OUT": str(tmp_path / "out"), "CACHE": str(tmp_path / "cache")}
    assert bash(f"agnhost_context {module} {ctx}\n", **env).returncode == 0

    def key(*lines: str) -> str:
        r = bash(f"context_key {ctx} " + " ".join(f"'{x}'" for x in lines) + "\n", **env)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    first = key("dockerfile", "tools-id")
    assert re.fullmatch(r"[0-9a-f]{12}", first) and key("dockerfile", "tools-id") == first
    assert key("dockerfile changed", "tools-id") != first
    assert key("dockerfile", "another tools image") != first
    for name in ("porter/localhost.crt", "porter/localhost.key", "agnhost", "coredns"):
        original = (ctx / name).read_bytes()
        (ctx / name).write_bytes(original + b"changed")
        assert key("dockerfile", "tools-id") != first, f"the key misses {name}"
        (ctx / name).write_bytes(original)
    (ctx / "porter" / "localhost.crt").rename(ctx / "porter" / "renamed.crt")
    assert key("dockerfile", "tools-id") != first, "the key misses the files' names"


def test_build_uses_that_context_and_key_for_the_agnhost_image():
    text = BUILD.read_text()
    assert 'agnhost_context "$AGN_DIR" "$CTX"' in text
    assert re.search(r'^AGN_DIR=.*GOMODCACHE\)/k8s\.io/kubernetes@\$K8S_VERSION/test/images/agnhost"$', text, re.M)
    assert re.search(r'^KEY=\$\(context_key "\$CTX" "\$\(cat "\$IMG_DIR/agnhost\.Dockerfile"\)" ', text, re.M)
    build = re.search(r'docker build [^\n]*-f "\$IMG_DIR/agnhost\.Dockerfile".*?"\$CTX"', text, re.S)
    assert build and '--label "hnc.local.e2e-key=$KEY"' in build.group(0), "the agnhost image is built elsewhere"
