"""strategy_runtime: which worker is running a strategy's cycle, and since when, so that
a cycle cut short (its worker killed, its database restarted) is run again instead of
waiting out a whole interval

Revision ID: 0020_strategy_running
Revises: 0015_trader_strategies
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_strategy_running"
down_revision = "0015_trader_strategies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("strategy_runtime") as batch:
        batch.add_column(sa.Column("running_owner", sa.String(128), nullable=True))
        batch.add_column(sa.Column("running_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("strategy_runtime") as batch:
        batch.drop_column("running_since")
        batch.drop_column("running_owner")
