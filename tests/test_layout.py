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
