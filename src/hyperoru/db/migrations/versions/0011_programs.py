"""User programs (Python strategies run in the sandbox)

Revision ID: 0011_programs
Revises: 0001_users_and_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_programs"
down_revision = "0001_users_and_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trading_programs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_trading_programs_user_id_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_trading_programs_user_id", "trading_programs", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_trading_programs_user_id", table_name="trading_programs")
    op.drop_table("trading_programs")
