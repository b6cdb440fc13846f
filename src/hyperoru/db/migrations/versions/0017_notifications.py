"""Telegram and Discord notifications: bot configs, preferences, chat bindings, link codes,
handled inbound updates and the outbox

Revision ID: 0017_notifications
Revises: 0001_users_and_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_notifications"
down_revision = "0001_users_and_sessions"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def _user(table: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "user_id",
        sa.Integer(),
        sa.ForeignKey("users.id", ondelete="CASCADE", name=f"fk_{table}_user_id_users"),
        nullable=False,
    )


def _exact() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    # ExactDecimal: text on SQLite, NUMERIC(38, 18) on PostgreSQL.
    return sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bot_configs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user("bot_configs"),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("token_hint", sa.String(8), nullable=True),
        sa.Column("has_webhook", sa.Boolean(), nullable=False),
        sa.Column("bot_username", sa.String(120), nullable=True),
        sa.Column("chat_id", sa.String(64), nullable=True),
        sa.Column("guild_id", sa.String(64), nullable=True),
        sa.Column("public_key", sa.String(64), nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("webhook_secret_sha256", sa.String(64), nullable=True),
        sa.Column("poll_offset", sa.BigInteger(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.UniqueConstraint("user_id", "platform", name="uq_bot_configs_user_id"),
        sa.UniqueConstraint("webhook_secret_sha256", name="uq_bot_configs_webhook_secret_sha256"),
    )
    op.create_index("ix_bot_configs_user_id", "bot_configs", ["user_id"])

    op.create_table(
        "bot_preferences",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_bot_preferences_user_id_users"),
            primary_key=True,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trade", sa.Boolean(), nullable=False),
        sa.Column("position_closed", sa.Boolean(), nullable=False),
        sa.Column("signal", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("daily_summary", sa.Boolean(), nullable=False),
        sa.Column("summary_time", sa.String(5), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("min_pnl_threshold", _exact(), nullable=False),
        sa.Column("last_summary_on", sa.String(10), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
    )

    op.create_table(
        "bot_chat_bindings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user("bot_chat_bindings"),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("trader_ids", sa.JSON(), nullable=False),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("disabled_reason", sa.String(300), nullable=True),
        sa.Column("pending", sa.JSON(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.UniqueConstraint("user_id", "platform", "chat_id", name="uq_bot_chat_bindings_user_id"),
    )
    op.create_index("ix_bot_chat_bindings_user_id", "bot_chat_bindings", ["user_id"])

    op.create_table(
        "bot_link_codes",
        sa.Column("code_sha256", sa.String(64), primary_key=True),
        _user("bot_link_codes"),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("trader_ids", sa.JSON(), nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
    )
    op.create_index("ix_bot_link_codes_user_id", "bot_link_codes", ["user_id"])

    op.create_table(
        "bot_handled_updates",
        sa.Column(
            "config_id",
            sa.Integer(),
            sa.ForeignKey(
                "bot_configs.id",
                ondelete="CASCADE",
                name="fk_bot_handled_updates_config_id_bot_configs",
            ),
            primary_key=True,
        ),
        sa.Column("update_id", sa.BigInteger(), primary_key=True),
        sa.Column("handled_at", _TIME, nullable=False),
    )

    op.create_table(
        "bot_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        _user("bot_outbox"),
        sa.Column(
            "binding_id",
            sa.Integer(),
            sa.ForeignKey(
                "bot_chat_bindings.id",
                ondelete="SET NULL",
                name="fk_bot_outbox_binding_id_bot_chat_bindings",
            ),
            nullable=True,
        ),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", _TIME, nullable=False),
        sa.Column("lease_owner", sa.String(120), nullable=True),
        sa.Column("lease_until", _TIME, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("sent_at", _TIME, nullable=True),
    )
    op.create_index("ix_bot_outbox_user_id", "bot_outbox", ["user_id"])
    op.create_index("ix_bot_outbox_status_available_at", "bot_outbox", ["status", "available_at"])


def downgrade() -> None:
    for table in (
        "bot_outbox",
        "bot_handled_updates",
        "bot_link_codes",
        "bot_chat_bindings",
        "bot_preferences",
        "bot_configs",
    ):
        op.drop_table(table)
