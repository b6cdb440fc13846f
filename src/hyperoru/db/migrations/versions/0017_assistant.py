"""HyperAI assistant: conversations, messages, model settings, daily token usage

Revision ID: 0017_assistant
Revises: 0001_users_and_sessions
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0017_assistant"
down_revision = "0001_users_and_sessions"
branch_labels = None
depends_on = None


def _owner(primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "user_id",
        sa.Integer(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "assistant_conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("skill_ids", sa.JSON(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at", nullable=True),
    )
    op.create_index("ix_assistant_conversations_user_id", "assistant_conversations", ["user_id"])
    op.create_table(
        "assistant_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("assistant_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("tool_call", sa.JSON(), nullable=True),
        _at("created_at"),
    )
    op.create_index(
        "ix_assistant_messages_conversation_id", "assistant_messages", ["conversation_id"]
    )
    op.create_table(
        "assistant_model_settings",
        _owner(primary_key=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("base_url", sa.String(2048), nullable=True),
        sa.Column("has_api_key", sa.Boolean(), nullable=False),
        sa.Column("api_key_hint", sa.String(8), nullable=True),
        sa.Column("trader_id", sa.Integer(), nullable=True),
        _at("updated_at"),
    )
    op.create_table(
        "assistant_usage",
        _owner(primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("tokens", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assistant_usage")
    op.drop_table("assistant_model_settings")
    op.drop_index("ix_assistant_messages_conversation_id", table_name="assistant_messages")
    op.drop_table("assistant_messages")
    op.drop_index("ix_assistant_conversations_user_id", table_name="assistant_conversations")
    op.drop_table("assistant_conversations")
