"""AI traders, their strategies, and the vault of sealed secrets

Revision ID: 0002_accounts
Revises: 0001_users_and_sessions
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0002_accounts"
down_revision = "0001_users_and_sessions"
branch_labels = None
depends_on = None


def _money(name: str, nullable: bool = False) -> sa.Column[Decimal]:
    # Mirrors hyperoru.db.types.ExactDecimal: exact text on SQLite, NUMERIC elsewhere.
    return sa.Column(
        name, sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite"), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_accounts_user_id_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("account_type", sa.String(16), nullable=False),
        sa.Column("llm_provider", sa.String(32), nullable=True),
        sa.Column("llm_model", sa.String(128), nullable=True),
        sa.Column("llm_base_url", sa.String(2048), nullable=True),
        sa.Column("has_api_key", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("api_key_hint", sa.String(4), nullable=True),
        _money("initial_capital"),
        _money("current_cash"),
        _money("frozen_cash"),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("auto_trading_enabled", sa.Boolean(), nullable=False),
        sa.Column("show_on_dashboard", sa.Boolean(), nullable=False),
        sa.Column("execution_mode", sa.String(8), nullable=False),
        sa.Column("exchange", sa.String(16), nullable=False),
        sa.Column("hyperliquid_enabled", sa.Boolean(), nullable=False),
        sa.Column("hyperliquid_environment", sa.String(16), nullable=True),
        sa.Column("default_leverage", sa.Integer(), nullable=False),
        sa.Column("max_leverage", sa.Integer(), nullable=False),
        _money("max_position_notional", nullable=True),
        sa.Column("max_open_positions", sa.Integer(), nullable=True),
        sa.Column("avatar_preset_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_accounts_user_id", "accounts", ["user_id"])

    op.create_table(
        "account_strategies",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_account_strategies_account_id_accounts"
            ),
            primary_key=True,
        ),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("trigger_interval", sa.Integer(), nullable=False),
        sa.Column("scheduled_trigger_enabled", sa.Boolean(), nullable=False),
        sa.Column("signal_pool_ids", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "vault_secrets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_vault_secrets_user_id_users"),
            nullable=False,
        ),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("scope", "scope_id", "field", name="uq_vault_secrets_slot"),
    )
    op.create_index("ix_vault_secrets_user_id", "vault_secrets", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_vault_secrets_user_id", table_name="vault_secrets")
    op.drop_table("vault_secrets")
    op.drop_table("account_strategies")
    op.drop_index("ix_accounts_user_id", table_name="accounts")
    op.drop_table("accounts")
