"""signals, pools, bindings

Revision ID: 0010_signals
Revises: 0002_accounts
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0010_signals"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def _times() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _owner() -> sa.Column[int]:
    return sa.Column(
        "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "signal_definitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_times(),
    )
    op.create_index("ix_signal_definitions_user_id", "signal_definitions", ["user_id"])
    op.create_table(
        "signal_pools",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("signal_ids", sa.JSON(), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("logic", sa.String(8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cooldown_seconds", sa.Integer(), nullable=False),
        *_times(),
    )
    op.create_index("ix_signal_pools_user_id", "signal_pools", ["user_id"])
    op.create_table(
        "signal_pool_runtime",
        sa.Column(
            "pool_id",
            sa.Integer(),
            sa.ForeignKey("signal_pools.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
        sa.Column("condition", sa.JSON(), nullable=False),
        sa.Column("last_fired_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "signal_triggers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "pool_id",
            sa.Integer(),
            sa.ForeignKey("signal_pools.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("account_ids", sa.JSON(), nullable=False),
    )
    op.create_index("ix_signal_triggers_pool_id", "signal_triggers", ["pool_id"])
    op.create_table(
        "strategy_bindings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("strategy_type", sa.String(16), nullable=False),
        sa.Column("prompt_id", sa.Integer()),
        sa.Column("program_id", sa.Integer()),
        sa.Column("signal_pool_ids", sa.JSON(), nullable=False),
        sa.Column("trigger_interval", sa.Integer(), nullable=False),
        sa.Column("scheduled_trigger_enabled", sa.Boolean(), nullable=False),
        sa.Column("params_override", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        *_times(),
    )
    op.create_index("ix_strategy_bindings_user_id", "strategy_bindings", ["user_id"])
    op.create_index("ix_strategy_bindings_account_id", "strategy_bindings", ["account_id"])


def downgrade() -> None:
    op.drop_table("strategy_bindings")
    op.drop_table("signal_triggers")
    op.drop_table("signal_pool_runtime")
    op.drop_table("signal_pools")
    op.drop_table("signal_definitions")
