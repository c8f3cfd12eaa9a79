"""Print the package-level import graph of ``tracker`` and fail on any cycle.

    python docs/import_graph.py            # the graph, one line per package
    python docs/import_graph.py --dot      # the same as Graphviz

A package here is a first-level name under ``tracker/`` (``store``, ``audit``, ``policy``…).
Every import counts, at the top of a module or inside a function or ``if TYPE_CHECKING``.
Exit status 1 and the cycles on stderr when packages import each other, directly or
through others.
The layers themselves are checked by ``lint-imports`` (docs/architecture.md).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path) -> Iterator[str]:
    """The absolute names ``path`` imports (for ``from x import y``, both ``x`` and ``x.y``)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def graph(root: Path) -> dict[str, set[str]]:
    """Package → the packages it imports, for the package at ``root``."""
    top = root.name
    edges: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        source = importer.split(".")[1] if "." in importer else importer
        edges.setdefault(source, set())
        for target in imports(path, root):
            parts = target.split(".")
            if parts[0] != top or len(parts) < 2:
                continue
            if not (root / parts[1]).is_dir() and not (root / f"{parts[1]}.py").is_file():
                continue  # ``from tracker import x`` names x twice: once is enough
            if parts[1] != source:
                edges[source].add(parts[1])
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT / "tracker", help="the package")
    parser.add_argument("--dot", action="store_true", help="print Graphviz instead")
    options = parser.parse_args(argv)
    root = options.root.resolve()
    edges = graph(root)
    if options.dot:
        print(f"digraph {root.name} {{")
        for source in sorted(edges):
            for target in sorted(edges[source]):
                print(f'  "{source}" -> "{target}";')
        print("}")
    else:
        width = max(map(len, edges), default=0)
        for source in sorted(edges):
            print(f"{source:<{width}} -> {', '.join(sorted(edges[source])) or '(nothing)'}")
    found = cycles(edges)
    for component in found:
        print(f"cycle: {' <-> '.join(component)} import each other", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
