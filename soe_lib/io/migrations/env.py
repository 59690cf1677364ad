"""Alembic environment of the decision log: run on the connection :class:`~soe_lib.io.decision_store.ActionLog` hands over
(it holds the lock that makes concurrent first use safe), never from a URL of its own."""

from __future__ import annotations

from alembic import context

from soe_lib.io.decision_store import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
