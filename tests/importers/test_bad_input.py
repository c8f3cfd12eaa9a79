"""What ``import django-termsandconditions`` refuses: one line on stderr, exit 1, and nothing
written (no repository, no tracker database: on PostgreSQL, no table in its schema)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from tests.importers.helpers import build_peer, peer_database
from tests.servers import free_port
from tracker import migrations
from tracker.cli import cli
from tracker.settings import Settings
from tracker.store import Store


def _refused(tmp_path: Path, source: str, tracker: str | None = None) -> str:
    into = tmp_path / "policies"
    database = tracker or f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    args = ["import", "django-termsandconditions", "--from", source, "--into", str(into)]
    result = CliRunner().invoke(cli, [*args, "--database-url", database])
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert not into.exists()
    if tracker is None:
        assert not (tmp_path / "tracker.sqlite3").exists()
    return lines[0]


def _tracker(db_url: str) -> str | None:
    """The tracker's database for ``_refused``: the default SQLite file, or PostgreSQL's."""
    return None if db_url.startswith("sqlite") else db_url


def _no_tables(db_url: str) -> None:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_missing_file(tmp_path: Path) -> None:
    line = _refused(tmp_path, f"sqlite:///{tmp_path / 'nope.sqlite3'}")
    assert line.endswith("nope.sqlite3: no such file")


def test_a_file_that_is_no_database(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    line = _refused(tmp_path, f"sqlite:///{tmp_path / 'notes.txt'}")
    assert (
        line == "error: cannot read the django-termsandconditions database: file is not a database"
    )


def test_another_apps_database(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    store = Store.open(Settings(database_url=f"sqlite:///{other}"))
    migrations.upgrade(store.engine)
    store.dispose()
    line = _refused(tmp_path, f"sqlite:///{other}")
    assert "has no table termsandconditions_termsandconditions" in line
    assert "not a django-termsandconditions database" in line


def test_a_server_that_does_not_answer(tmp_path: Path) -> None:
    line = _refused(tmp_path, f"postgresql://postgres@127.0.0.1:{free_port()}/app")
    assert line.startswith("error: cannot read the django-termsandconditions database: ")


def test_not_a_url(tmp_path: Path) -> None:
    assert "is not a database URL" in _refused(tmp_path, "my database")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_trackers_own_database(tmp_path: Path, kind: str) -> None:
    with peer_database(kind, tmp_path) as source:
        build_peer(source)
        line = _refused(tmp_path, source, tracker=source)
    assert "the tracker's database is the django-termsandconditions database" in line


@pytest.mark.parametrize(
    ("scenario", "said"),
    [
        ("inactive", "error: version cookies 2.00 (id 7) has no date_active"),
        ("duplicate", "error: duplicate acceptances: ids "),
        ("future", "error: acceptance id "),
    ],
)
def test_bad_rows(tmp_path: Path, db_url: str, scenario: str, said: str) -> None:
    with peer_database("sqlite", tmp_path) as source:
        build_peer(source, scenario)
        line = _refused(tmp_path, source, _tracker(db_url))
    assert line.startswith(said), line
    if not db_url.startswith("sqlite"):
        _no_tables(db_url)
    if scenario == "future":
        assert "in the future" in line
    if scenario == "duplicate":
        assert "and 9999 both record user 1 accepting privacy 1.50" in line
