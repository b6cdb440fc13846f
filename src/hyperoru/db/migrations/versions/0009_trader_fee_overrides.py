"""per-trader fee overrides

Revision ID: 0009_trader_fee_overrides
Revises: 0002_accounts
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0009_trader_fee_overrides"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def _rate(name: str) -> sa.Column[Decimal]:
    # Mirrors hyperoru.db.types.ExactDecimal: exact text on SQLite, NUMERIC elsewhere.
    return sa.Column(name, sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite"), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(_rate("taker_fee_rate"))
        batch.add_column(_rate("maker_fee_rate"))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("maker_fee_rate")
        batch.drop_column("taker_fee_rate")
