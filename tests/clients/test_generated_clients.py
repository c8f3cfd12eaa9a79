"""Clients generated from the served document, as apps would generate them: openapi-typescript
(with openapi-fetch) and openapi-python-client, default settings. A small app on each records
an acceptance and reads a status; it is type-checked (tsc, mypy --strict) with no casts and
run against a real server. @redocly/cli lints the document (recommended rules: 0 errors).

The npm tools are pinned by tests/clients/package-lock.json (``npm ci`` in ``.ci/run``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.service.helpers import payload, policy, version

HERE = Path(__file__).parent
BIN = HERE / "node_modules" / ".bin"
PYTHON_BIN = Path(sys.executable).parent


def _tool(path: Path) -> Path:
    if not path.exists():
        message = f"{path.name} is not installed: run npm ci --prefix tests/clients"
        if path.parent == PYTHON_BIN:
            message = f"{path.name} is not installed: pip install -e '.[test]'"
        if os.environ.get("POLICY_TRACKER_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(args: list[str | Path], cwd: Path, **env: str) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{PYTHON_BIN}{os.pathsep}{os.environ['PATH']}", **env},
    )
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture
def served(server: str, keys: dict[str, str], tmp_path: Path) -> Path:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    body = payload(policy("privacy", version(1, "major")))
    assert httpx.post(f"{server}/v1/admin/versions", json=body, headers=admin).status_code == 201
    document = tmp_path / "openapi.json"
    document.write_bytes(httpx.get(f"{server}/openapi.json").content)
    return document


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_redocly_finds_no_error(served: Path) -> None:
    out = _run([_tool(BIN / "redocly"), "lint", served, "--format=summary"], HERE)
    assert "Your API description is valid" in out, out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_typescript_app_on_the_generated_types(
    served: Path, server: str, keys: dict[str, str], tmp_path: Path
) -> None:
    app = tmp_path / "ts"
    shutil.copytree(HERE / "ts", app)
    (tmp_path / "package.json").write_text('{"type": "module"}\n')
    (tmp_path / "node_modules").symlink_to(HERE / "node_modules")
    _run([_tool(BIN / "openapi-typescript"), served, "-o", app / "schema.d.ts"], app)
    _run([_tool(BIN / "tsc"), "-p", app], app)
    out = _run(["node", app / "out" / "app.js", server, keys["admin"], "ts-user"], app)
    answer = json.loads(out.splitlines()[0])
    assert answer == {
        "created": True,
        "recorded": {"screen": "signup", "experiment": {"arm": "b"}},
        "state": "accepted",
        "accepted_version": 1,
    }


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_python_app_on_the_generated_client(
    served: Path, server: str, keys: dict[str, str], tmp_path: Path
) -> None:
    generator = _tool(PYTHON_BIN / "openapi-python-client")
    generated = _run([generator, "generate", "--path", served], tmp_path)
    assert "Warning" not in generated, generated  # every operation generated, none skipped
    package = tmp_path / "policy-tracker-client"
    shutil.copy(HERE / "py_app.py", tmp_path / "app.py")
    _run([sys.executable, "-m", "mypy", "--strict", "app.py"], tmp_path, MYPYPATH=str(package))
    out = _run(
        [sys.executable, "app.py", server, keys["admin"], "py-user"],
        tmp_path,
        PYTHONPATH=str(package),
    )
    answer = json.loads(out.splitlines()[0])
    assert answer == {
        "created": True,
        "state": "accepted",
        "accepted_version": 1,
        "asked_again": 1,
    }
