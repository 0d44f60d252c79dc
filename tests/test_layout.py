"""The package's layout: no import cycle among its modules, counting imports inside functions too
(a lazy import is a cycle put off, not removed)."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "hostnet_conformance"


def import_graph() -> dict[str, set[str]]:
    mods = {}
    for f in PKG.rglob("*.py"):
        name = ".".join(f.with_suffix("").relative_to(PKG.parent).parts)
        mods[name[:-len(".__init__")] if name.endswith(".__init__") else name] = f
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, f in mods.items():
        pkg = m if f.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = pkg.split(".")[:len(pkg.split(".")) - (node.level - 1)] if node.level else []
                target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
                names = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            graph[m] |= {n for n in names if n in mods and n != m and n != "hostnet_conformance"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_scan_sees_the_imports():
    g = import_graph()
    assert "hostnet_conformance.manifests" in g["hostnet_conformance.scenarios"]
    assert "hostnet_conformance.results" in g["hostnet_conformance.html_report"]


def test_no_import_cycle_among_the_packages_modules():
    assert cycles(import_graph()) == []


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


SUITES = PKG.parent / "suites"


def _shapes(path: Path) -> list[tuple[int, str]]:
    """Each code line of a file as its shape: keywords and operators kept, every other name, string
    and number replaced by one placeholder (so two tests that differ only in names, claims or
    messages have the same shape). Blank lines, comments and docstrings drop out."""
    import io
    import keyword
    import tokenize
    lines: dict[int, list[str]] = {}
    prev = None
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
            prev = tok.type if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) else prev
            continue
        if tok.type == tokenize.STRING and prev in (None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            prev = tok.type   # a docstring or a bare string statement
            continue
        prev = tok.type
        text = (tok.string if tok.type == tokenize.OP or (tok.type == tokenize.NAME and keyword.iskeyword(tok.string))
                else {tokenize.NAME: "N", tokenize.STRING: "S", tokenize.NUMBER: "0"}.get(tok.type, tok.string))
        lines.setdefault(tok.start[0], []).append(text)
    return [(n, " ".join(t)) for n, t in sorted(lines.items())]


def test_no_two_places_in_suites_share_six_lines_of_the_same_shape():
    """The suites are made from the claims registry, not written out claim by claim: six lines of
    the same shape in two places are a pattern to make from data (issue 20)."""
    seen: dict[tuple[str, ...], str] = {}
    repeated = []
    for path in sorted(SUITES.glob("*.py")):
        shapes = _shapes(path)
        last_end: dict[tuple[str, ...], int] = {}
        for i in range(len(shapes) - 5):
            window = tuple(s for _, s in shapes[i:i + 6])
            where = f"{path.name}:{shapes[i][0]}"
            if window in seen and last_end.get(window, -1) < i:
                repeated.append(f"{where} has the shape of {seen[window]}")
            seen.setdefault(window, where)
            last_end[window] = i + 5
    assert not repeated, "\n".join(repeated)
