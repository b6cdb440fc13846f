"""which binding (and program) a decision ran; each scheduled binding's own clock

Revision ID: 0014_decision_binding
Revises: 0010_signals (depends on 0008_decision_records, 0007_trader_runtime)
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_decision_binding"
down_revision = "0010_signals"
branch_labels = None
depends_on = ("0007_trader_runtime", "0008_decision_records")


def upgrade() -> None:
    op.add_column("decision_records", sa.Column("program_id", sa.Integer(), nullable=True))
    op.add_column("decision_records", sa.Column("binding_id", sa.Integer(), nullable=True))
    op.create_index("ix_decision_records_binding_id", "decision_records", ["binding_id"])
    op.create_table(
        "binding_runtime",
        sa.Column(
            "binding_id",
            sa.Integer(),
            sa.ForeignKey(
                "strategy_bindings.id",
                ondelete="CASCADE",
                name="fk_binding_runtime_binding_id_strategy_bindings",
            ),
            primary_key=True,
        ),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_cycle_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("binding_runtime")
    op.drop_index("ix_decision_records_binding_id", "decision_records")
    with op.batch_alter_table("decision_records") as batch:
        batch.drop_column("binding_id")
        batch.drop_column("program_id")
