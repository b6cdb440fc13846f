"""market candles

Revision ID: 0003_market_candles
Revises: 0001_users_and_sessions
"""

import sqlalchemy as sa
from alembic import op

from hyperoru.db.types import ExactDecimal

revision = "0003_market_candles"
down_revision = "0001_users_and_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_candles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("exchange", sa.String(40), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("interval", sa.String(8), nullable=False),
        sa.Column("open_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", ExactDecimal(), nullable=False),
        sa.Column("high", ExactDecimal(), nullable=False),
        sa.Column("low", ExactDecimal(), nullable=False),
        sa.Column("close", ExactDecimal(), nullable=False),
        sa.Column("volume", ExactDecimal(), nullable=False),
        sa.UniqueConstraint(
            "exchange", "symbol", "interval", "open_time", name="uq_market_candles_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("market_candles")
