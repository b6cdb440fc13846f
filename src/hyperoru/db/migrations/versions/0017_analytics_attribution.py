"""Analytics: what caused each order (trigger type, decision, strategy) and what each
decision was taken on (its context); nullable, so existing rows stay as they are
(docs/ANALYTICS.md reports such orders as unattributed)

Revision ID: 0017_analytics_attribution
Revises: 0005_trading
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_analytics_attribution"
down_revision = "0005_trading"
branch_labels = None
# Also adds a column to decision_records, created on another branch.
depends_on = "0008_decision_records"

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
    with op.batch_alter_table("decision_records") as batch:
        batch.add_column(sa.Column("context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision_records") as batch:
        batch.drop_column("context")
    with op.batch_alter_table("trading_orders") as batch:
        batch.drop_index("ix_trading_orders_decision_id")
        for name, _kind in reversed(_COLUMNS):
            batch.drop_column(name)
