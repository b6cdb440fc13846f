"""Program backtests (inputs and long results; status lives in the jobs table)

Revision ID: 0012_backtests
Revises: 0011_programs
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_backtests"
down_revision = "0011_programs"
branch_labels = None
# The rows share their id with the jobs table's.
depends_on = ("0004_jobs",)


def upgrade() -> None:
    op.create_table(
        "program_backtests",
        sa.Column(
            "id",
            sa.Integer(),
            sa.ForeignKey("jobs.id", ondelete="CASCADE", name="fk_program_backtests_id_jobs"),
            primary_key=True,
        ),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_program_backtests_owner_id_users"
            ),
            nullable=False,
        ),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("program_name", sa.String(128), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("replay_settings", sa.JSON(), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("equity_curve", sa.JSON(), nullable=True),
        sa.Column("trades", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_program_backtests_owner_id", "program_backtests", ["owner_id"])
    op.create_index("ix_program_backtests_program_id", "program_backtests", ["program_id"])


def downgrade() -> None:
    op.drop_index("ix_program_backtests_program_id", table_name="program_backtests")
    op.drop_index("ix_program_backtests_owner_id", table_name="program_backtests")
    op.drop_table("program_backtests")
