"""Memory across analysis runs: analysis_runs, findings and dismissals.

Revision ID: 0003_findings
Revises: 0002_run_id
Create Date: 2025-01-03

Only new, empty tables: nothing here locks coordination_logs, so upgrading a live database does
not block audit writers. Each migration runs in its own transaction (PostgreSQL and SQLite DDL is
transactional), so a failure leaves none of the three tables behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_findings"
down_revision: str | Sequence[str] | None = "0002_run_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the three tables and their indexes."""
    op.create_table(
        "analysis_runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("codebase_id", sa.String(1024), nullable=False),
        sa.Column("codebase", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("focus", _json(), nullable=True),
        sa.Column("summary", _json(), nullable=True),
        sa.Column("tools", _json(), nullable=True),
    )
    op.create_index("idx_runs_codebase_finished", "analysis_runs", ["codebase_id", "finished_at"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("analysis_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(64), nullable=True),
        sa.Column("rule_id", sa.String(255), nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("data", _json(), nullable=True),
    )
    op.create_index("idx_findings_run_id", "findings", ["run_id"])
    op.create_index("idx_findings_fingerprint", "findings", ["fingerprint"])
    op.create_table(
        "dismissals",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dismissed_by", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", _json(), nullable=True),
    )


def downgrade() -> None:
    """Drop the three tables (findings before the runs they reference)."""
    op.drop_table("dismissals")
    op.drop_index("idx_findings_fingerprint", table_name="findings")
    op.drop_index("idx_findings_run_id", table_name="findings")
    op.drop_table("findings")
    op.drop_index("idx_runs_codebase_finished", table_name="analysis_runs")
    op.drop_table("analysis_runs")
