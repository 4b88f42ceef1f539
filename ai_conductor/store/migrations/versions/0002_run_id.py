"""Add run_id: which run of a workflow an event belongs to.

Revision ID: 0002_run_id
Revises: 0001_coordination_logs
Create Date: 2025-01-02

On PostgreSQL the index is built CONCURRENTLY (outside a transaction) so that upgrading a large,
live seed table does not block writers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_run_id"
down_revision: str | Sequence[str] | None = "0001_coordination_logs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "coordination_logs"
INDEX = "idx_logs_run_id"


def upgrade() -> None:
    """Add the nullable run_id column and its index."""
    op.add_column(TABLE, sa.Column("run_id", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                INDEX, TABLE, ["run_id"], postgresql_concurrently=True, if_not_exists=True
            )
    else:
        op.create_index(INDEX, TABLE, ["run_id"], if_not_exists=True)


def downgrade() -> None:
    """Drop run_id and its index."""
    op.drop_index(INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("run_id")
