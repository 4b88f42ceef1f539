"""The seed's coordination_logs table and indexes.

Revision ID: 0001_coordination_logs
Revises:
Create Date: 2025-01-01

A database that already has the seed's table (created by the seed's own code, without Alembic) is
adopted: the table is kept and only missing indexes are created.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_coordination_logs"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "coordination_logs"
ACTIVE = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    """Create coordination_logs (unless the seed created it) and the seed's indexes."""
    if not sa.inspect(op.get_bind()).has_table(TABLE):
        op.create_table(
            TABLE,
            sa.Column(
                "id",
                sa.Integer().with_variant(sa.BigInteger(), "postgresql"),
                primary_key=True,
                autoincrement=True,
            ),
            sa.Column("workflow_id", sa.String(255), nullable=False),
            sa.Column("task_id", sa.String(255), nullable=True),
            sa.Column("agent_role", sa.String(64), nullable=True),
            sa.Column("action", sa.String(64), nullable=False),
            sa.Column("status", sa.String(32), nullable=False),
            sa.Column("metadata", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
            sa.Column("error_message", sa.Text(), nullable=True),
            sa.Column(
                "created_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.now(),
            ),
        )
    op.create_index("idx_logs_workflow_task", TABLE, ["workflow_id", "task_id"], if_not_exists=True)
    op.create_index(
        "idx_logs_created_status",
        TABLE,
        [sa.text("created_at DESC"), "status"],
        if_not_exists=True,
    )
    op.create_index(
        "idx_active_workflows",
        TABLE,
        ["workflow_id"],
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
        if_not_exists=True,
    )


def downgrade() -> None:
    """Drop the table (and its indexes)."""
    op.drop_table(TABLE)
