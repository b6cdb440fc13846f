"""Prompt templates (user-owned and built-in)

Revision ID: 0006_prompts
Revises: 0001_users_and_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_prompts"
down_revision = "0001_users_and_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_prompt_templates_user_id_users"),
            nullable=True,
        ),
        sa.Column("system_key", sa.String(64), nullable=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("system_key", name="uq_prompt_templates_system_key"),
    )
    op.create_index("ix_prompt_templates_user_id", "prompt_templates", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_prompt_templates_user_id", table_name="prompt_templates")
    op.drop_table("prompt_templates")
