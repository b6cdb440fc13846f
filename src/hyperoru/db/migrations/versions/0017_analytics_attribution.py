"""Analytics: what caused each order (trigger type, decision, strategy); nullable, so
existing orders stay as they are (docs/ANALYTICS.md reports them as unattributed)

Revision ID: 0017_analytics_attribution
Revises: 0005_trading
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_analytics_attribution"
down_revision = "0005_trading"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("trigger_type", sa.String(16)),
    ("decision_id", sa.Integer()),
    ("strategy_type", sa.String(16)),
    ("prompt_id", sa.Integer()),
    ("program_id", sa.Integer()),
    ("binding_id", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("trading_orders") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.create_index("ix_trading_orders_decision_id", ["decision_id"])


def downgrade() -> None:
    with op.batch_alter_table("trading_orders") as batch:
        batch.drop_index("ix_trading_orders_decision_id")
        for name, _kind in reversed(_COLUMNS):
            batch.drop_column(name)
