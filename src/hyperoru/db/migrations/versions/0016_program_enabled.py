"""Programs: the programs page's ``enabled`` switch (existing programs stay enabled)

Revision ID: 0016_program_enabled
Revises: 0011_programs
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_program_enabled"
down_revision = "0011_programs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trading_programs") as batch:
        batch.add_column(
            sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("trading_programs") as batch:
        batch.drop_column("enabled")
