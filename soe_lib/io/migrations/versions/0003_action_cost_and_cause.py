"""What an action was expected to cost, and the cause of its item when it was decided: the closed loop
values each countermeasure (realised benefit minus cost) and rolls it up by action type, owner and cause.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("expected_cost", sa.Float, nullable=True))
        batch.add_column(sa.Column("item_cause", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("item_cause")
        batch.drop_column("expected_cost")
