"""Live trading: the order journal, venue fill ids, account snapshots, reconciliation
events and the per-trader risk limits

Revision ID: 0017_live_trading
Revises: 0005_trading
"""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0017_live_trading"
down_revision = "0005_trading"
branch_labels = None
depends_on = None


def _money(name: str, nullable: bool = False) -> sa.Column[Decimal]:
    # Mirrors hyperoru.db.types.ExactDecimal: exact text on SQLite, NUMERIC elsewhere.
    return sa.Column(
        name, sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite"), nullable=nullable
    )


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _account(table: str) -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer(),
        sa.ForeignKey("accounts.id", ondelete="CASCADE", name=f"fk_{table}_account_id_accounts"),
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(_money("max_order_notional", nullable=True))
        batch.add_column(_money("max_daily_loss", nullable=True))
        batch.add_column(sa.Column("allowed_symbols", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column(
                "flatten_on_daily_loss", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("trading_fills") as batch:
        batch.add_column(sa.Column("venue_fill_id", sa.String(64), nullable=True))
        batch.create_unique_constraint(
            "uq_trading_fills_venue_fill", ["account_id", "venue_fill_id"]
        )
    op.create_table(
        "trading_live_orders",
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey(
                "trading_orders.id",
                ondelete="CASCADE",
                name="fk_trading_live_orders_order_id_trading_orders",
            ),
            primary_key=True,
        ),
        _account("trading_live_orders"),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("venue_client_id", sa.String(32), nullable=False),
        sa.Column("venue_order_id", sa.String(64), nullable=True),
        sa.Column("submit_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.UniqueConstraint("venue_client_id", name="uq_trading_live_orders_venue_client_id"),
    )
    op.create_index(
        "ix_trading_live_orders_state", "trading_live_orders", ["account_id", "submit_state"]
    )
    op.create_table(
        "trading_live_snapshots",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_trading_live_snapshots_account_id"
            ),
            primary_key=True,
        ),
        sa.Column("venue", sa.String(16), nullable=False),
        _money("equity"),
        _money("available"),
        _money("margin_used"),
        _money("unrealized_pnl"),
        sa.Column("positions", sa.JSON(), nullable=False),
        _time("taken_at"),
        _time("fills_since"),
        _time("funding_since"),
        _time("day_start", nullable=True),
        _money("day_start_equity", nullable=True),
    )
    op.create_table(
        "trading_reconciliation_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account("trading_reconciliation_events"),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_trading_reconciliation_events_user_id"
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _time("created_at"),
    )
    op.create_index(
        "ix_trading_reconciliation_account",
        "trading_reconciliation_events",
        ["account_id", "id"],
    )


def downgrade() -> None:
    op.drop_table("trading_reconciliation_events")
    op.drop_table("trading_live_snapshots")
    op.drop_table("trading_live_orders")
    with op.batch_alter_table("trading_fills") as batch:
        batch.drop_constraint("uq_trading_fills_venue_fill", type_="unique")
        batch.drop_column("venue_fill_id")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("flatten_on_daily_loss")
        batch.drop_column("allowed_symbols")
        batch.drop_column("max_daily_loss")
        batch.drop_column("max_order_notional")
