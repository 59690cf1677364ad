"""The decision store: what the weekly meeting decided, by whom, by when, what became of it, and the scenarios
it kept: SQL only (what a decision on an item keeps, and the minutes, are the app's: :mod:`soe_lib.app.decisions`).

A real database through SQLAlchemy: a SQLite file by default (``outputs/actions.db``), any SQLAlchemy
URL by configuration (``SOE_ACTIONS_DB=postgresql+psycopg://...`` for a team that meets across
machines). Every write is one transaction. Two people recording at the same time both get saved
(inserts never conflict; SQLite runs in WAL mode and waits up to 30 s for the write lock). Updates
are optimistic: each action carries a ``version``; an update made from a stale view (someone else
changed the action since it was loaded) is refused with :class:`StaleUpdate` instead of overwriting.
Every change is kept in ``action_events`` (the minutes).

The schema is owned by Alembic (``soe_lib/io/migrations``): opening a log brings it to the latest
revision, under a lock (a file lock beside a SQLite file, an advisory lock on PostgreSQL), so twenty
people opening a new log at once create it exactly once. A log made by the first release (tables,
no revision) is stamped at revision 0001 first. A SQLite file is created readable by its owner only.
A damaged or locked database raises :class:`ActionLogError` with a sentence for the page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from ..core.paths import outputs_dir
from ..core.weeks import due_week as checked_due_week

__all__ = ["STATUSES", "ActionLog", "ActionLogError", "Conflict", "StaleUpdate", "default_url", "minutes_dir"]

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 73_510_052  # pg_advisory_xact_lock key of the decision log's schema upgrades

STATUSES = ("open", "in progress", "done", "cancelled")
ITEM_STATE = ("item_id", "action_type", "target", "qty", "expected_benefit", "expected_cost", "item_money_at_risk", "item_shortage_qty", "item_cause",
              "pool")
CLOSED = ("done", "cancelled")

metadata = sa.MetaData()
actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("week", sa.String(8), nullable=False, index=True),  # the meeting week it was decided in
    sa.Column("item_kind", sa.String(40), nullable=False, default=""),
    sa.Column("sku", sa.String(200), nullable=False, default=""),
    sa.Column("location", sa.String(200), nullable=False, default=""),
    sa.Column("resource", sa.String(200), nullable=False, default=""),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("due_week", sa.String(8), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, default="open"),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created_by", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    # revision 0002: the decision item the action is for, and its state when recorded
    sa.Column("item_id", sa.String(40), nullable=False, default="", index=True),
    sa.Column("action_type", sa.String(40), nullable=False, default=""),
    sa.Column("target", sa.String(200), nullable=False, default=""),
    sa.Column("qty", sa.Float, nullable=True),
    sa.Column("expected_benefit", sa.Float, nullable=True),
    sa.Column("item_money_at_risk", sa.Float, nullable=True),
    sa.Column("item_shortage_qty", sa.Float, nullable=True),
    # revision 0003: what it was expected to cost, and the item's cause then (for the value it added)
    sa.Column("expected_cost", sa.Float, nullable=True),
    sa.Column("item_cause", sa.String(200), nullable=False, default=""),
    # revision 0005: the shared limit it draws on (order:<line>, stock:<sku>@<location>, overtime:<resource>:<week>, ...)
    sa.Column("pool", sa.String(200), nullable=False, default=""),
)
scenarios = sa.Table(  # revision 0004: named what-if scenarios of a week (changes as JSON)
    "scenarios",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("week", sa.String(8), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("changes", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
events = sa.Table(
    "action_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action_id", sa.Integer, sa.ForeignKey("actions.id"), nullable=False, index=True),
    sa.Column("week", sa.String(8), nullable=False, index=True),  # the meeting week it happened in
    sa.Column("event", sa.String(20), nullable=False),  # recorded / status
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("by", sa.String(200), nullable=False, default=""),
    sa.Column("at", sa.DateTime, nullable=False),
)


class Conflict(ValueError):
    """The decision would draw on an order (or the same item's pool) that an open action already has."""


class StaleUpdate(Exception):
    """The action changed since it was loaded; reload and decide again."""


class ActionLogError(Exception):
    """The decision database cannot be used (damaged, locked, unreachable); the message is for people."""


def _explain(exc: Exception, url: str) -> ActionLogError:
    """A sentence a meeting can act on, never a traceback or a password."""
    text = str(getattr(exc, "orig", exc)).lower()
    name = sa.engine.make_url(url).database or "the database"
    where = Path(name).name if url.startswith("sqlite") else sa.engine.make_url(url).render_as_string(hide_password=True)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        why = f"the decision database {where} is damaged (not a readable SQLite database); restore it from a backup or move it aside"
    elif "locked" in text or "busy" in text:
        why = f"the decision database {where} is locked by another program; try again in a moment"
    elif "permission" in text or "readonly" in text or "read-only" in text:
        why = f"the decision database {where} cannot be written (permissions or a read-only disk)"
    else:
        why = f"the decision database {where} cannot be used ({type(getattr(exc, 'orig', exc)).__name__})"
    return ActionLogError(why)


def minutes_dir(out: Path, week: str) -> Path:
    """Where a week's minutes go: ``outputs/minutes/<week>/``, outside the archived run folders (a re-run
    of the week replaces its run folder; the minutes stay)."""
    return Path(out) / "minutes" / week

def default_url(out: Path | None = None) -> str:
    """``$SOE_ACTIONS_DB`` or a SQLite file ``actions.db`` in the outputs folder."""
    url = os.environ.get("SOE_ACTIONS_DB")
    if url:
        return url
    folder = Path(out) if out is not None else outputs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'actions.db').resolve()}"


def _database_errors(method):
    """Errors of the database become :class:`ActionLogError` (a sentence for the page); ours pass through."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sa.exc.SQLAlchemyError as exc:
            raise _explain(exc, self.url) from exc

    return wrapper


def _sqlite_pragmas(dbapi_connection, _record, busy_ms: int = 30_000) -> None:
    """WAL (readers never block the writer) and a busy timeout on every new SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _create_owner_only(url: str) -> None:
    """Create a new SQLite file with mode 0600 before SQLite does (SQLite gives its WAL files the same mode)."""
    database = sa.engine.make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:" and not Path(database).exists():
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))


@dataclass
class ActionLog:
    url: str
    busy_timeout: float = 30.0  # seconds a SQLite writer waits for the lock before saying it is locked

    def __post_init__(self) -> None:
        self.sqlite = self.url.startswith("sqlite")
        try:
            kwargs = {"connect_args": {"timeout": self.busy_timeout}} if self.sqlite else {"pool_pre_ping": True}
            self.engine = sa.create_engine(self.url, future=True, **kwargs)
            if self.sqlite:
                sa.event.listen(self.engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=int(self.busy_timeout * 1000)))
            self._open_file()
            self.migrate()
        except ActionLogError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise _explain(exc, self.url) from exc

    def migrate(self) -> str:
        """Bring the schema to the latest Alembic revision (once, under a lock); returns the revision."""
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        with self.engine.connect() as conn:
            if MigrationContext.configure(conn).get_current_revision() == head:
                return head  # the usual case: nothing to lock, nothing to do
        with self._migration_lock(), self.engine.begin() as conn:
            if not self.sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            self._upgrade(conn)
        return head

    def _open_file(self) -> None:
        """A SQLite log's file, under the schema lock: a new one created (owner-only) and given SQLite's header
        at once, so that another process opening it a moment later never finds it empty; an existing file of
        0 bytes refused in words (SQLite would take it as a new, empty log: the decisions it should hold would
        be lost unseen)."""
        database = sa.engine.make_url(self.url).database if self.sqlite else None
        if not database or database == ":memory:":
            return
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        with self._migration_lock():
            path = Path(database)
            if path.is_file() and path.stat().st_size == 0:
                raise ActionLogError(f"the decision database {path.name} is an empty file (0 bytes), not a decision log: restore it from a backup, "
                                     "or remove it to start a new log")
            if not path.exists():
                _create_owner_only(self.url)
                with self.engine.connect():  # WAL mode written: the file holds SQLite's header now
                    pass

    def _alembic_config(self):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def _upgrade(self, conn: sa.Connection) -> None:
        from alembic import command
        from alembic.migration import MigrationContext

        cfg = self._alembic_config()
        cfg.attributes["connection"] = conn
        if MigrationContext.configure(conn).get_current_revision() is None and sa.inspect(conn).has_table("actions"):
            command.stamp(cfg, "0001")  # a first-release log: its tables are revision 0001, upgraded from there
        command.upgrade(cfg, "head")

    @contextlib.contextmanager
    def _migration_lock(self):
        """SQLite: an exclusive file lock beside the database (PostgreSQL locks inside the transaction)."""
        database = sa.engine.make_url(self.url).database
        if not (self.sqlite and database and database != ":memory:"):
            yield
            return
        with os.fdopen(os.open(f"{database}.migrate.lock", os.O_CREAT | os.O_WRONLY, 0o600), "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @_database_errors
    def record(
        self, week: str, action: str, owner: str, due_week: str, note: str = "", by: str = "",
        item_kind: str = "", sku: str = "", location: str = "", resource: str = "", item: dict | None = None,
    ) -> int:
        """Save a decision (status open); returns its id. Owner, action and due week are required.

        ``item``: the decision item's state when decided, kept with the action so it can be followed:
        ``item_id``, ``action_type`` (expedite, transfer, ... or empty), ``target`` (the order, source
        location, resource or substitute), ``qty``, ``expected_benefit``, ``expected_cost``,
        ``item_money_at_risk``, ``item_shortage_qty``, ``item_cause``.
        """
        if not action.strip() or not owner.strip() or not due_week.strip():
            raise ValueError("a decision needs an action, an owner and a due week")
        due_week = checked_due_week(week, due_week)  # an ISO week at or after the meeting's: overdue tracking counts weeks
        state = {k: v for k, v in (item or {}).items() if k in ITEM_STATE}
        now = _now()
        with self.engine.begin() as conn:
            self._refuse_a_second(conn, state)
            new_id = conn.execute(
                actions.insert().values(
                    week=week, item_kind=item_kind, sku=sku, location=location, resource=resource, action=action.strip(),
                    owner=owner.strip(), due_week=due_week.strip(), status="open", note=note, created_by=by,
                    created_at=now, updated_at=now, version=1, **{"item_id": "", "action_type": "", "target": "", "item_cause": "", "pool": "", **state},
                )
            ).inserted_primary_key[0]
            conn.execute(events.insert().values(action_id=new_id, week=week, event="recorded", status="open", note=note, by=by, at=now))
        return int(new_id)

    @staticmethod
    def _refuse_a_second(conn: sa.Connection, state: dict) -> None:
        """An order (its pool ``order:``/``raise:``) is moved by one open action at a time; any other pool
        (a donor's stock, a resource-week) by one open action per item. Raises :class:`Conflict` naming
        the action that has it (inside the recording transaction: two people recording at once are
        checked against each other by the database's write lock)."""
        pool = str(state.get("pool") or "")
        if not pool:
            return
        cond = sa.and_(actions.c.pool == pool, actions.c.status.notin_(CLOSED))
        if not pool.startswith(("order:", "raise:")):
            cond = sa.and_(cond, actions.c.item_id == str(state.get("item_id") or ""))
        first = conn.execute(sa.select(actions.c.id, actions.c.action, actions.c.owner, actions.c.week).where(cond).order_by(actions.c.id).limit(1)).first()
        if first is not None:
            what = "this order" if pool.startswith(("order:", "raise:")) else "this item's " + pool.split(":", 1)[0]
            raise Conflict(f"{what} already has open action #{first.id} ({first.action}, owner {first.owner}, decided {first.week}): "
                           "update that action instead of recording a second one")

    @_database_errors
    def update_status(self, action_id: int, version: int, status: str, note: str, by: str, week: str) -> int:
        """Change an action's status if nobody changed it since ``version``; returns the new version."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        now = _now()
        with self.engine.begin() as conn:
            done = conn.execute(
                actions.update()
                .where(actions.c.id == action_id, actions.c.version == version)
                .values(status=status, note=note, updated_at=now, version=version + 1)
            )
            if done.rowcount != 1:
                raise StaleUpdate(
                    f"action {action_id} was changed by someone else since you loaded it; reload to see the change"
                )
            conn.execute(events.insert().values(action_id=action_id, week=week, event="status", status=status, note=note, by=by, at=now))
        return version + 1

    @_database_errors
    def frame(self, where=None) -> pd.DataFrame:
        query = sa.select(actions).order_by(actions.c.due_week, actions.c.id)
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    def open_actions(self, week: str | None = None) -> pd.DataFrame:
        """Actions not done or cancelled, decided before ``week`` (all weeks when None), due first;
        ``overdue`` when the due week is before ``week``."""
        cond = actions.c.status.notin_(CLOSED)
        if week:
            cond = sa.and_(cond, actions.c.week < week)
        out = self.frame(cond)
        out["overdue"] = (out["due_week"] < week) if week else False
        return out

    @_database_errors
    def save_scenario(self, week: str, name: str, changes: list[dict], by: str = "") -> int:
        """Keep a what-if scenario of ``week`` under ``name`` (a name is required); returns its id."""
        if not name.strip():
            raise ValueError("a scenario needs a name")
        if not changes:
            raise ValueError("a scenario needs at least one change")
        with self.engine.begin() as conn:
            return int(conn.execute(scenarios.insert().values(week=week, name=name.strip(), changes=json.dumps(changes), created_by=by,
                                                              created_at=_now())).inserted_primary_key[0])

    @_database_errors
    def scenarios(self, week: str) -> pd.DataFrame:
        """The week's saved scenarios (id, name, changes as a list, by, when), newest first."""
        with self.engine.connect() as conn:
            out = pd.read_sql(sa.select(scenarios).where(scenarios.c.week == week).order_by(scenarios.c.id.desc()), conn)
        out["changes"] = out["changes"].map(json.loads)
        return out

    @staticmethod
    def decided_before(week: str):
        """The condition "recorded in a meeting week before ``week``" (for :meth:`frame`)."""
        return actions.c.week < week

    def decided_in(self, week: str) -> pd.DataFrame:
        return self.frame(actions.c.week == week)

    @_database_errors
    def events_in(self, week: str) -> pd.DataFrame:
        query = (
            sa.select(events, actions.c.action, actions.c.owner, actions.c.sku, actions.c.location)
            .join(actions, actions.c.id == events.c.action_id)
            .where(events.c.week == week)
            .order_by(events.c.id)
        )
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)
