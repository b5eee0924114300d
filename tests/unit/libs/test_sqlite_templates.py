"""New SQLite stores as copies of a migrated empty one (libs.sqlite_templates).

The migrations are the libraries' own: the test for MLflow compares a seeded
store with one MLflow created itself, schema and rows.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from libs.sqlite_templates import seed, template


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(cache))
    return cache


def _make(calls: list[Path]):
    def create(path: Path) -> None:
        calls.append(path)
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE t (x INTEGER)")
            con.execute("INSERT INTO t VALUES (1)")

    return create


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT x FROM t").fetchall()


def test_a_new_store_is_a_copy_and_the_template_is_made_once(tmp_path: Path) -> None:
    calls: list[Path] = []
    first, second = tmp_path / "a" / "store.db", tmp_path / "b" / "store.db"
    assert seed(first, "lib-1.0", _make(calls))
    assert seed(second, "lib-1.0", _make(calls))
    assert len(calls) == 1  # migrated once, copied twice
    assert _rows(first) == _rows(second) == [(1,)]
    # a copy, not the template itself: writing one leaves the others as they were
    with sqlite3.connect(first) as con:
        con.execute("INSERT INTO t VALUES (2)")
    assert _rows(second) == [(1,)]
    assert _rows(template("lib-1.0", _make(calls))) == [(1,)]


def test_an_existing_store_is_never_replaced(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    db.write_bytes(b"theirs")
    assert not seed(db, "lib-1.0", _make([]))
    assert db.read_bytes() == b"theirs"
    wal_only = tmp_path / "other.db"
    wal_only.with_name("other.db-wal").write_bytes(b"journal of a store in use")
    assert not seed(wal_only, "lib-1.0", _make([]))
    assert not wal_only.exists()


def test_a_failed_migration_leaves_no_store_and_no_template(
    tmp_path: Path, _own_cache: Path
) -> None:
    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("migration failed")

    db = tmp_path / "store.db"
    assert not seed(db, "lib-2.0", broken)
    assert not db.exists()  # the library creates it as it always did
    assert [p.name for p in _own_cache.iterdir() if p.suffix == ".db"] == []
    # and a later call, with a working migration, makes the template then
    assert seed(db, "lib-2.0", _make([]))


def test_an_unusable_cache_folder_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(blocker / "cache"))
    db = tmp_path / "store.db"
    assert not seed(db, "lib-1.0", _make([]))
    assert not db.exists()


def test_versions_have_templates_of_their_own(tmp_path: Path) -> None:
    calls: list[Path] = []
    seed(tmp_path / "one.db", "lib-1.0", _make(calls))
    seed(tmp_path / "two.db", "lib-1.1", _make(calls))
    assert len(calls) == 2


def test_concurrent_first_seeds_migrate_once(tmp_path: Path) -> None:
    calls: list[Path] = []
    create = _make(calls)
    results: list[bool] = []
    threads = [
        threading.Thread(
            target=lambda db=tmp_path / f"{i}.db": results.append(seed(db, "k", create))
        )
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 6
    assert len(calls) == 1


@pytest.mark.slow  # two stores through MLflow's migrations
def test_a_seeded_mlflow_store_is_the_store_mlflow_creates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: one store created by MLflow itself, one seeded from the template
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from tasks.tracking._client import _seed_store

    monkeypatch.chdir(tmp_path)
    own = tmp_path / "own.db"
    SqlAlchemyStore(f"sqlite:///{own}", "./mlruns").engine.dispose()
    seeded = tmp_path / "seeded.db"
    _seed_store(seeded)
    _seed_store(tmp_path / "again.db")  # the second from the cached template

    def content(db: Path) -> dict[str, list[tuple]]:
        with sqlite3.connect(db) as con:
            query = "SELECT name FROM sqlite_master WHERE type='table'"
            tables = [r[0] for r in con.execute(query)]
            rows = {t: con.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
            schema = con.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
            # MLflow's own migrations order tables and a table's constraints differently
            # from one run to the next: the same statements, lines in any order.
            rows["schema"] = sorted(
                (kind, name, tuple(sorted((sql or "").replace(",", "").splitlines())))
                for kind, name, sql in schema
            )
        # creation times differ by when each was made
        rows["experiments"] = [(r[0], r[1], r[2], r[3], r[6]) for r in rows["experiments"]]
        return rows

    # then: the same tables, schema version and rows, Default experiment where MLflow puts it
    assert content(seeded) == content(own)
    assert content(tmp_path / "again.db") == content(own)
    store = SqlAlchemyStore(f"sqlite:///{seeded}", "./mlruns")
    assert store.get_experiment("0").artifact_location == str(tmp_path / "mlruns" / "0")
