"""Paper trading: margin modes (a trader's default and each order's resolved mode;
existing traders and orders are cross)

Revision ID: 0017_paper_margin_mode
Revises: 0005_trading
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_paper_margin_mode"
down_revision = "0005_trading"
branch_labels = None
depends_on = None


def _margin_mode() -> sa.Column[str]:
    return sa.Column("margin_mode", sa.String(8), nullable=False, server_default="cross")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(_margin_mode())
    with op.batch_alter_table("trading_orders") as batch:
        batch.add_column(_margin_mode())


def downgrade() -> None:
    with op.batch_alter_table("trading_orders") as batch:
        batch.drop_column("margin_mode")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("margin_mode")
