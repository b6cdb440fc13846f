"""Prompt backtests: the runs, their snapshots, and the cache of model answers

Revision ID: 0013_prompt_backtests
Revises: 0011_programs (depends on 0004_jobs)
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_prompt_backtests"
down_revision = "0011_programs"
branch_labels = None
# The backtest rows share their id with the jobs table's.
depends_on = ("0004_jobs",)


def _owner(table: str) -> sa.Column[int]:
    return sa.Column(
        "owner_id",
        sa.Integer(),
        sa.ForeignKey("users.id", ondelete="CASCADE", name=f"fk_{table}_owner_id_users"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "prompt_backtests",
        sa.Column(
            "id",
            sa.Integer(),
            sa.ForeignKey("jobs.id", ondelete="CASCADE", name="fk_prompt_backtests_id_jobs"),
            primary_key=True,
        ),
        _owner("prompt_backtests"),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("prompt_name", sa.String(128), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("replay_settings", sa.JSON(), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("llm_provider", sa.String(32), nullable=True),
        sa.Column("llm_model", sa.String(128), nullable=True),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("snapshots_done", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("cached_calls", sa.Integer(), nullable=False),
        sa.Column("failed_snapshots", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("equity_curve", sa.JSON(), nullable=True),
        sa.Column("trades", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_prompt_backtests_owner_id", "prompt_backtests", ["owner_id"])
    op.create_table(
        "prompt_backtest_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "backtest_id",
            sa.Integer(),
            sa.ForeignKey(
                "prompt_backtests.id",
                ondelete="CASCADE",
                name="fk_prompt_backtest_snapshots_backtest_id_prompt_backtests",
            ),
            nullable=False,
        ),
        sa.Column("bar_index", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("prompt_digest", sa.String(64), nullable=False),
        sa.Column("rendered_prompt", sa.Text(), nullable=False),
        sa.Column("raw_output", sa.Text(), nullable=True),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_prompt_backtest_snapshots_task",
        "prompt_backtest_snapshots",
        ["backtest_id", "bar_index"],
    )
    op.create_table(
        "prompt_response_cache",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        _owner("prompt_response_cache"),
        sa.Column("llm_provider", sa.String(32), nullable=True),
        sa.Column("llm_model", sa.String(128), nullable=True),
        sa.Column("raw_output", sa.Text(), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("digest", name="uq_prompt_response_cache_digest"),
    )
    op.create_index("ix_prompt_response_cache_owner_id", "prompt_response_cache", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_prompt_response_cache_owner_id", table_name="prompt_response_cache")
    op.drop_table("prompt_response_cache")
    op.drop_index("ix_prompt_backtest_snapshots_task", table_name="prompt_backtest_snapshots")
    op.drop_table("prompt_backtest_snapshots")
    op.drop_index("ix_prompt_backtests_owner_id", table_name="prompt_backtests")
    op.drop_table("prompt_backtests")
