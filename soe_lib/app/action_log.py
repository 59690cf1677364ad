"""The action log: what the weekly meeting decided, by whom, by when, and what became of it.

A real database through SQLAlchemy: a SQLite file by default (``outputs/actions.db``), any SQLAlchemy
URL by configuration (``SOE_ACTIONS_DB=postgresql://...`` for a team). Every write is one
transaction. Two people recording at the same time both get saved (inserts never conflict; SQLite
waits up to 30 s for the file lock). Updates are optimistic: each action carries a ``version``; an
update made from a stale view (someone else changed the action since it was loaded) is refused with
:class:`StaleUpdate` instead of overwriting. Every change is kept in ``action_events`` (the minutes).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from ..core.paths import outputs_dir

__all__ = ["STATUSES", "ActionLog", "StaleUpdate", "default_url"]

STATUSES = ("open", "in progress", "done", "cancelled")
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


class StaleUpdate(Exception):
    """The action changed since it was loaded; reload and decide again."""


def default_url(out: Path | None = None) -> str:
    """``$SOE_ACTIONS_DB`` or a SQLite file ``actions.db`` in the outputs folder."""
    url = os.environ.get("SOE_ACTIONS_DB")
    if url:
        return url
    folder = Path(out) if out is not None else outputs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'actions.db').resolve()}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class ActionLog:
    url: str

    def __post_init__(self) -> None:
        kwargs = {"connect_args": {"timeout": 30}} if self.url.startswith("sqlite") else {}
        self.engine = sa.create_engine(self.url, future=True, **kwargs)
        if self.url.startswith("sqlite"):
            with self.engine.begin() as conn:  # WAL: readers do not block the writer
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        metadata.create_all(self.engine)

    def record(
        self, week: str, action: str, owner: str, due_week: str, note: str = "", by: str = "",
        item_kind: str = "", sku: str = "", location: str = "", resource: str = "",
    ) -> int:
        """Save a decision (status open); returns its id. Owner, action and due week are required."""
        if not action.strip() or not owner.strip() or not due_week.strip():
            raise ValueError("a decision needs an action, an owner and a due week")
        now = _now()
        with self.engine.begin() as conn:
            new_id = conn.execute(
                actions.insert().values(
                    week=week, item_kind=item_kind, sku=sku, location=location, resource=resource, action=action.strip(),
                    owner=owner.strip(), due_week=due_week.strip(), status="open", note=note, created_by=by,
                    created_at=now, updated_at=now, version=1,
                )
            ).inserted_primary_key[0]
            conn.execute(events.insert().values(action_id=new_id, week=week, event="recorded", status="open", note=note, by=by, at=now))
        return int(new_id)

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

    def decided_in(self, week: str) -> pd.DataFrame:
        return self.frame(actions.c.week == week)

    def events_in(self, week: str) -> pd.DataFrame:
        query = (
            sa.select(events, actions.c.action, actions.c.owner, actions.c.sku, actions.c.location)
            .join(actions, actions.c.id == events.c.action_id)
            .where(events.c.week == week)
            .order_by(events.c.id)
        )
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    def export_minutes(self, week: str, folder: Path) -> tuple[Path, Path]:
        """The week's decisions and status changes as ``minutes.md`` and ``minutes.csv`` in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        ev = self.events_in(week)
        csv_path, md_path = folder / "minutes.csv", folder / "minutes.md"
        ev.to_csv(csv_path, index=False)
        lines = [f"# S&OE meeting minutes, week {week}", ""]
        recorded = ev[ev["event"] == "recorded"]
        changed = ev[ev["event"] == "status"]
        lines += ["## Decisions", ""] + (
            [f"- #{r.action_id} {r.action} ({r.sku} @ {r.location}) - owner {r.owner}; {r.note}".rstrip("; ") for r in recorded.itertuples()]
            or ["- none"]
        )
        lines += ["", "## Status changes", ""] + (
            [f"- #{r.action_id} {r.action}: {r.status} ({r.by}); {r.note}".rstrip("; ") for r in changed.itertuples()] or ["- none"]
        )
        md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return md_path, csv_path
