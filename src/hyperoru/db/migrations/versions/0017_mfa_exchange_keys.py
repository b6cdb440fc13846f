"""Two-factor for users (TOTP state, recovery codes) and traders' exchange credentials

Revision ID: 0017_mfa_exchange_keys
Revises: 0002_accounts

Traders' ``hyperliquid_enabled``/``hyperliquid_environment`` now follow their stored
Hyperliquid credentials; none exist before this revision, so both are reset.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_mfa_exchange_keys"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))

    op.create_table(
        "user_recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_user_recovery_codes_user_id_users"
            ),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_user_recovery_codes_user_id", "user_recovery_codes", ["user_id"])

    op.create_table(
        "exchange_credentials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "accounts.id",
                ondelete="CASCADE",
                name="fk_exchange_credentials_account_id_accounts",
            ),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", ondelete="CASCADE", name="fk_exchange_credentials_user_id_users"
            ),
            nullable=False,
        ),
        sa.Column("exchange", sa.String(16), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("master_address", sa.String(42), nullable=True),
        sa.Column("agent_address", sa.String(42), nullable=True),
        sa.Column("api_key_hint", sa.String(4), nullable=True),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account_id", name="uq_exchange_credentials_account_id"),
    )
    op.create_index("ix_exchange_credentials_user_id", "exchange_credentials", ["user_id"])

    accounts = sa.table(
        "accounts",
        sa.column("hyperliquid_enabled", sa.Boolean()),
        sa.column("hyperliquid_environment", sa.String()),
    )
    op.execute(accounts.update().values(hyperliquid_enabled=False, hyperliquid_environment=None))


def downgrade() -> None:
    op.drop_index("ix_exchange_credentials_user_id", table_name="exchange_credentials")
    op.drop_table("exchange_credentials")
    op.drop_index("ix_user_recovery_codes_user_id", table_name="user_recovery_codes")
    op.drop_table("user_recovery_codes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enabled_at")
