"""market candles: the funding rate an imported candle file carried

Revision ID: 0020_candle_funding
Revises: 0003_market_candles
"""

import sqlalchemy as sa
from alembic import op

from hyperoru.db.types import ExactDecimal

revision = "0020_candle_funding"
down_revision = "0003_market_candles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("market_candles") as batch:
        batch.add_column(sa.Column("funding_rate", ExactDecimal(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("market_candles") as batch:
        batch.drop_column("funding_rate")
