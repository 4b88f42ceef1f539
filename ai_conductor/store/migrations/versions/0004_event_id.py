"""Add event_id: a unique id per audit event, so retried and replayed writes are stored once.

Revision ID: 0004_event_id
Revises: 0003_findings
Create Date: 2025-01-04

The column is nullable: rows written before this migration keep NULL (a unique index admits any
number of NULLs). Inserts skip a row whose event_id is already stored (ON CONFLICT DO NOTHING).
On PostgreSQL the unique index is built CONCURRENTLY (outside a transaction), so upgrading a large,
live table does not block writers; adding a nullable column without default is instant.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_event_id"
down_revision: str | Sequence[str] | None = "0003_findings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "coordination_logs"
INDEX = "uq_logs_event_id"


def upgrade() -> None:
    """Add the nullable event_id column and its unique index; resumable after a crash.

    On PostgreSQL the column is committed before the concurrent index build, so a process killed
    during the build leaves the column without the revision: the column is therefore added only
    when missing, and an INVALID index a failed build left behind is dropped and rebuilt.
    """
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns(TABLE)}
    if "event_id" not in columns:
        op.add_column(TABLE, sa.Column("event_id", sa.String(64), nullable=True))
    if bind.dialect.name != "postgresql":
        op.create_index(INDEX, TABLE, ["event_id"], unique=True, if_not_exists=True)
        return
    with op.get_context().autocommit_block():
        invalid = bind.execute(
            sa.text(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND NOT i.indisvalid"
            ),
            {"name": INDEX},
        ).first()
        if invalid:
            op.execute(sa.text(f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"'))
        op.create_index(
            INDEX, TABLE, ["event_id"], unique=True, postgresql_concurrently=True,
            if_not_exists=True,
        )  # fmt: skip


def downgrade() -> None:
    """Drop event_id and its index."""
    op.drop_index(INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("event_id")
