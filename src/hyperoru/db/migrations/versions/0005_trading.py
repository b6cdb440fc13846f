"""Paper trading ledger: orders, fills, funding, liquidations, equity, engine state

Revision ID: 0005_trading
Revises: 0002_accounts
"""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0005_trading"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def _money(name: str, nullable: bool = False) -> sa.Column[Decimal]:
    # Mirrors hyperoru.db.types.ExactDecimal: exact text on SQLite, NUMERIC elsewhere.
    return sa.Column(
        name, sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite"), nullable=nullable
    )


def _account(table: str) -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer(),
        sa.ForeignKey("accounts.id", ondelete="CASCADE", name=f"fk_{table}_account_id_accounts"),
        nullable=False,
    )


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "trading_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("trading_orders"),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_trading_orders_user_id_users"),
            nullable=False,
        ),
        sa.Column("client_order_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("order_type", sa.String(8), nullable=False),
        _money("quantity"),
        _money("price", nullable=True),
        sa.Column("leverage", sa.Integer(), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("time_in_force", sa.String(4), nullable=False),
        _money("take_profit_price", nullable=True),
        _money("stop_loss_price", nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _money("filled_quantity"),
        _money("average_price", nullable=True),
        sa.Column("reject_code", sa.String(32), nullable=True),
        sa.Column("status_reason", sa.String(500), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.UniqueConstraint("account_id", "client_order_id", name="uq_trading_orders_client_id"),
    )
    op.create_index("ix_trading_orders_account_id", "trading_orders", ["account_id"])
    op.create_index("ix_trading_orders_user_status", "trading_orders", ["user_id", "status"])

    op.create_table(
        "trading_fills",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("trading_fills"),
        sa.Column("fill_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("engine_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        _money("price"),
        _money("quantity"),
        _money("fee"),
        _money("realized_pnl"),
        sa.Column("liquidity", sa.String(5), nullable=False),
        sa.Column("is_liquidation", sa.Boolean(), nullable=False),
        _time("time"),
        sa.UniqueConstraint("account_id", "fill_id", name="uq_trading_fills_fill"),
    )
    op.create_index("ix_trading_fills_account_id", "trading_fills", ["account_id"])

    op.create_table(
        "trading_funding_payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("trading_funding_payments"),
        sa.Column("symbol", sa.String(32), nullable=False),
        _time("time"),
        _money("position_size"),
        _money("mark_price"),
        _money("rate"),
        _money("payment"),
        sa.UniqueConstraint("account_id", "symbol", "time", name="uq_trading_funding_hour"),
    )

    op.create_table(
        "trading_liquidations",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("trading_liquidations"),
        _time("time"),
        _money("equity"),
        _money("maintenance_margin"),
        sa.Column("symbols", sa.JSON(), nullable=False),
    )
    op.create_index("ix_trading_liquidations_account_id", "trading_liquidations", ["account_id"])

    op.create_table(
        "trading_equity_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("trading_equity_snapshots"),
        _time("taken_at"),
        _money("equity"),
        _money("cash"),
        _money("positions_value"),
        sa.UniqueConstraint("account_id", "taken_at", name="uq_trading_equity_minute"),
    )

    op.create_table(
        "trading_ledgers",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_trading_ledgers_account_id_accounts"
            ),
            primary_key=True,
        ),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("has_exposure", sa.Boolean(), nullable=False),
        _time("market_time", nullable=True),
        _time("updated_at"),
    )
    op.create_index("ix_trading_ledgers_has_exposure", "trading_ledgers", ["has_exposure"])


def downgrade() -> None:
    op.drop_table("trading_ledgers")
    op.drop_table("trading_equity_snapshots")
    op.drop_table("trading_liquidations")
    op.drop_table("trading_funding_payments")
    op.drop_table("trading_fills")
    op.drop_table("trading_orders")
