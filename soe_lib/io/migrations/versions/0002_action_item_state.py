"""What an action needs to be followed: the decision item it is for, what it does, and the item's
state and expected benefit when it was recorded.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

def _columns() -> list[sa.Column]:
    return [
        sa.Column("item_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("action_type", sa.String(40), nullable=False, server_default=""),
        sa.Column("target", sa.String(200), nullable=False, server_default=""),
        sa.Column("qty", sa.Float, nullable=True),
        sa.Column("expected_benefit", sa.Float, nullable=True),
        sa.Column("item_money_at_risk", sa.Float, nullable=True),
        sa.Column("item_shortage_qty", sa.Float, nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        for column in _columns():
            batch.add_column(column)
        batch.create_index("ix_actions_item_id", ["item_id"])


def downgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.drop_index("ix_actions_item_id")
        for column in _columns():
            batch.drop_column(column.name)
