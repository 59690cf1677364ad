"""The decision log on SQLite and on a real PostgreSQL server: the same tests for both.

Recording and updating (with stale updates refused), concurrent writers, concurrent first use of a
new database (the schema is made exactly once, by Alembic), a first-release database migrated in
place, and clear messages for a damaged or locked database."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from soe_lib.app.decisions import export_minutes
from soe_lib.io import ActionLog, ActionLogError, StaleUpdate
from soe_lib.io.decision_store import Conflict

from .postgres import postgres_server

HEAD = "0005"


@pytest.fixture(scope="module")
def new_postgres_database():
    with postgres_server() as new_database:
        yield new_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])  # a PostgreSQL server: the full tier
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'actions.db'}"
    return request.getfixturevalue("new_postgres_database")()


def test_records_updates_and_refuses_stale_updates(url, tmp_path):
    log = ActionLog(url)
    a = log.record("2026-W48", "expedite PO-1", "Ann", "2026-W50", note="call Oceanic", by="Bo", sku="00001", location="0100")
    assert log.open_actions("2026-W49")["id"].tolist() == [a]
    assert log.open_actions("2026-W48").empty  # decided this week: not an action from an earlier week
    v2 = log.update_status(a, 1, "in progress", "booked", "Ann", "2026-W49")
    with pytest.raises(StaleUpdate, match="changed by someone else"):
        log.update_status(a, 1, "done", "from an old screen", "Bo", "2026-W49")  # still at version 1 on that screen
    log.update_status(a, v2, "done", "arrived", "Ann", "2026-W50")
    assert log.open_actions("2026-W51").empty
    assert log.frame().loc[0, "status"] == "done"
    overdue = log.record("2026-W48", "x", "Cy", "2026-W49")
    assert log.open_actions("2026-W51").set_index("id").loc[overdue, "overdue"]
    with pytest.raises(ValueError):
        log.record("2026-W48", "", "Ann", "2026-W50")
    md, csv = export_minutes(log, "2026-W49", tmp_path / "min")
    assert "in progress" in md.read_text() and "booked" in md.read_text()
    assert pd.read_csv(csv)["status"].tolist() == ["in progress"]


def test_a_second_open_action_on_the_same_order_is_refused_naming_the_first(url):
    log = ActionLog(url)
    first = log.record("2026-W48", "pull in PO-665", "Ann", "2026-W50", item={"item_id": "SL-a", "pool": "order:665", "action_type": "pull_in"})
    with pytest.raises(Conflict, match=rf"open action #{first} \(pull in PO-665, owner Ann"):
        log.record("2026-W49", "expedite PO-665", "Ben", "2026-W50", item={"item_id": "SL-b", "pool": "order:665", "action_type": "expedite"})
    # a donor's stock serves several items: one open action per item on it, and once the first is closed, a new one
    log.record("2026-W48", "transfer from 0300", "Ann", "2026-W50", item={"item_id": "SL-a", "pool": "stock:A@0300"})
    log.record("2026-W48", "transfer from 0300", "Ben", "2026-W50", item={"item_id": "SL-c", "pool": "stock:A@0300"})
    with pytest.raises(Conflict):
        log.record("2026-W49", "transfer more from 0300", "Cy", "2026-W50", item={"item_id": "SL-c", "pool": "stock:A@0300"})
    log.update_status(first, 1, "done", "", "Ann", "2026-W49")
    assert log.record("2026-W49", "pull in PO-665 again", "Ben", "2026-W51", item={"item_id": "SL-b", "pool": "order:665"}) > first
    assert len(log.frame()) == 4


def test_concurrent_writers_are_all_saved(url):
    ActionLog(url)
    errors = []

    def record(who):
        try:
            log = ActionLog(url)  # each person their own connection, as two browser sessions are
            for i in range(20):
                log.record("2026-W48", f"action {who} {i}", who, "2026-W50")
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(w,)) for w in ("Ann", "Bo", "Cy", "Di")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == [] and len(ActionLog(url).frame()) == 80


def _first_use(url: str, barrier, results) -> None:
    try:
        barrier.wait(timeout=60)  # all twenty open the new database at the same moment
        log = ActionLog(url)
        log.record("2026-W48", f"from {os.getpid()}", "Ann", "2026-W50")
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 (reported to the test)
        results.put(f"{type(exc).__name__}: {exc}")


def test_twenty_people_opening_a_new_log_at_once(url):
    import alembic.command  # noqa: F401 (imported before the fork, so no child is slowed down by it: a real race)
    import alembic.migration  # noqa: F401
    import alembic.script  # noqa: F401

    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(20), ctx.Queue()
    procs = [ctx.Process(target=_first_use, args=(url, barrier, results)) for _ in range(20)]
    [p.start() for p in procs]
    [p.join(120) for p in procs]
    outcomes = [results.get(timeout=5) for _ in procs]
    assert outcomes == ["ok"] * 20
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        assert conn.execute(sa.text("SELECT count(*) FROM actions")).scalar() == 20
    engine.dispose()


def _release_1_schema(engine) -> None:
    """The tables as the first release made them (create_all, no Alembic revision)."""
    md = sa.MetaData()
    sa.Table("actions", md, sa.Column("id", sa.Integer, primary_key=True), *(sa.Column(c, sa.String(200)) for c in (
        "week", "item_kind", "sku", "location", "resource", "action", "owner", "due_week", "status", "note", "created_by")),
        sa.Column("created_at", sa.DateTime), sa.Column("updated_at", sa.DateTime), sa.Column("version", sa.Integer))
    sa.Table("action_events", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("action_id", sa.Integer, sa.ForeignKey("actions.id")),
             *(sa.Column(c, sa.String(200)) for c in ("week", "event", "status", "note", "by")), sa.Column("at", sa.DateTime))
    md.create_all(engine)


def test_a_first_release_log_is_migrated_in_place(url):
    """Release 1 made its tables with create_all and no Alembic revision: they are kept, stamped 0001, upgraded."""
    engine = sa.create_engine(url)
    _release_1_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO actions (week, item_kind, sku, location, resource, action, owner, due_week, status, note, "
                             "created_by, created_at, updated_at, version) VALUES ('2026-W47', '', '', '', '', 'old', 'Ann', '2026-W48', "
                             "'open', '', '', '2026-11-16', '2026-11-16', 1)"))
    engine.dispose()
    log = ActionLog(url)
    assert log.frame()["action"].tolist() == ["old"] and log.frame()["item_id"].tolist() == [""]
    with log.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    new = log.record("2026-W48", "expedite PO-9", "Ann", "2026-W50", item={"item_id": "SL-1", "qty": 40.0, "expected_benefit": 310.0, "item_shortage_qty": 55.0})
    row = log.frame().set_index("id").loc[new]
    assert (row["item_id"], row["qty"], row["expected_benefit"], row["item_shortage_qty"]) == ("SL-1", 40.0, 310.0, 55.0)


def test_a_new_sqlite_log_is_readable_by_its_owner_only(tmp_path):
    ActionLog(f"sqlite:///{tmp_path / 'a.db'}").record("2026-W48", "x", "Ann", "2026-W50")
    for name in ("a.db", "a.db-wal"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name


def test_a_damaged_sqlite_log_says_so(tmp_path):
    (tmp_path / "a.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ActionLogError, match=r"a\.db is damaged"):
        ActionLog(f"sqlite:///{tmp_path / 'a.db'}")


def test_a_locked_sqlite_log_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    log = ActionLog(url, busy_timeout=0.2)
    holder = sqlite3.connect(tmp_path / "a.db")
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        with pytest.raises(ActionLogError, match="locked by another program"):
            log.record("2026-W48", "x", "Ann", "2026-W50")
    finally:
        holder.rollback()
        holder.close()
    assert log.record("2026-W48", "x", "Ann", "2026-W50") > 0  # and works again once it is released


def test_a_postgres_url_never_shows_its_password():
    with pytest.raises(ActionLogError) as info:
        ActionLog("postgresql+psycopg://soe:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in str(info.value) and "cannot be used" in str(info.value)


def test_an_empty_sqlite_file_is_said_never_taken_as_a_new_log(tmp_path):
    """A decision log truncated to 0 bytes (a full disk, a bad copy) would open as a new, empty log: the
    decisions it held would be lost unseen. It is refused in words."""
    (tmp_path / "actions.db").write_bytes(b"")
    with pytest.raises(ActionLogError, match="actions.db is an empty file .0 bytes.*restore it from a backup"):
        ActionLog(f"sqlite:///{tmp_path / 'actions.db'}")
    assert (tmp_path / "actions.db").stat().st_size == 0  # left as it was
