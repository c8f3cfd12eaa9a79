"""The package-level import graph (docs/import_graph.py) has no cycle, and the script says
so for a package that has one."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "import_graph.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def graph_of(output: str) -> dict[str, set[str]]:
    edges = {}
    for line in output.splitlines():
        source, _, targets = line.partition(" -> ")
        edges[source.strip()] = set() if targets == "(nothing)" else set(targets.split(", "))
    return edges


def test_tracker_has_no_import_cycle() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    edges = graph_of(result.stdout)
    above_store = {"audit", "notices", "publish", "check", "migrations", "sync", "service", "cli"}
    assert not edges["store"] & (above_store | {"history", "redline"})
    # handed a classifier, never redline
    assert edges["history"] == {"errors", "policy", "languages"}
    assert edges["chain"] == {"errors"}
    assert edges["migrations"] == {"store"}
    assert not {"audit", "chain"} & edges["migrations"]


def test_a_cycle_fails(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "low").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low" / "__init__.py").write_text("")
    (package / "low" / "rows.py").write_text("def f():\n    from pkg.high import g\n")
    (package / "high.py").write_text("from pkg.low import rows\n")
    (package / "leaf.py").write_text("from . import high\n")
    result = run("--root", str(package))
    assert result.returncode == 1
    assert result.stderr == "cycle: high <-> low import each other\n"
    assert graph_of(result.stdout) == {
        "high": {"low"},
        "leaf": {"high"},
        "low": {"high"},
        "pkg": set(),
    }
    dot = run("--root", str(package), "--dot")
    assert '"low" -> "high";' in dot.stdout


def test_docs_name_every_layer_of_the_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    names = {name.strip() for layer in layers for name in layer.split("|")}
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = sorted(n for n in names if f"`{n}`" not in doc and n != "tracker.__main__")
    assert not missing, f"docs/architecture.md does not name {missing}"
    assert "lint-imports" in doc and "docs/import_graph.py" in doc
