"""factors: users' custom factors and stored effectiveness

Revision ID: 0018_factors
Revises: 0001_users_and_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_factors"
down_revision = "0001_users_and_sessions"
branch_labels = None
depends_on = None


def _owner(nullable: bool) -> sa.Column[int]:
    return sa.Column(
        "user_id",
        sa.Integer(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=nullable,
        index=True,
    )


def upgrade() -> None:
    op.create_table(
        "custom_factors",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_custom_factors_user_name"),
    )
    op.create_table(
        "factor_effectiveness",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(24), nullable=False),
        _owner(nullable=True),
        sa.Column("factor_name", sa.String(64), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("scope", "factor_name", name="uq_factor_effectiveness_scope_name"),
    )


def downgrade() -> None:
    op.drop_table("factor_effectiveness")
    op.drop_table("custom_factors")
