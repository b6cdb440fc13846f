"""kline backfills: their own id sequence (state stays in jobs)

Revision ID: 0016_kline_backfills
Revises: 0004_jobs

Backfills made before this revision keep their number (their job id), so status URLs
already handed out keep working; new ones continue after the highest.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_kline_backfills"
down_revision = "0004_jobs"
branch_labels = None
depends_on = None

BACKFILL_KIND = "klines_backfill"


def upgrade() -> None:
    op.create_table(
        "kline_backfills",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("jobs.id", ondelete="CASCADE", name="fk_kline_backfills_job_id_jobs"),
            nullable=False,
        ),
        sa.UniqueConstraint("job_id", name="uq_kline_backfills_job_id"),
    )
    op.execute(
        sa.text(
            "INSERT INTO kline_backfills (id, job_id) "
            "SELECT id, id FROM jobs WHERE kind = :kind ORDER BY id"
        ).bindparams(kind=BACKFILL_KIND)
    )
    if op.get_bind().dialect.name == "postgresql":
        # Explicit ids do not move a serial's sequence: start it after the copied rows.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('kline_backfills', 'id'), "
            "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM kline_backfills"
        )


def downgrade() -> None:
    op.drop_table("kline_backfills")
