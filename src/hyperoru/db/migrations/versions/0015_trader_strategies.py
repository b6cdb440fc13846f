"""one model of what a trader runs: trader_strategies (primary strategy and bindings) and
one clock table, strategy_runtime

The bindings keep their ids (the API shows them); each trader's primary strategy, until now
a row of account_strategies, becomes a ``kind = 'primary'`` row with a new id. The clocks
of trader_runtime (primary) and binding_runtime (bindings) move to strategy_runtime.

Revision ID: 0015_trader_strategies
Revises: 0014_decision_binding (depends on 0002_accounts, 0007_trader_runtime)
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_trader_strategies"
down_revision = "0014_decision_binding"
branch_labels = None
depends_on = ("0002_accounts", "0007_trader_runtime")


_COPY_PRIMARIES = (
    "INSERT INTO trader_strategies (kind, user_id, account_id, strategy_type, prompt_id, "
    "program_id, symbols, signal_pool_ids, trigger_interval, scheduled_trigger_enabled, "
    "params_override, is_active, created_at, updated_at) "
    "SELECT 'primary', a.user_id, s.account_id, a.account_type, s.prompt_id, s.program_id, "
    "s.symbols, s.signal_pool_ids, s.trigger_interval, s.scheduled_trigger_enabled, "
    "{empty_object}, s.enabled, s.created_at, s.updated_at "
    "FROM account_strategies s JOIN accounts a ON a.id = s.account_id ORDER BY s.account_id"
)
# SQLite stores JSON as text; PostgreSQL needs the literal typed.
_EMPTY_OBJECT = {"sqlite": "'{}'", "postgresql": "CAST('{}' AS JSON)"}


def upgrade() -> None:
    op.drop_index("ix_strategy_bindings_user_id", table_name="strategy_bindings")
    op.drop_index("ix_strategy_bindings_account_id", table_name="strategy_bindings")
    op.rename_table("strategy_bindings", "trader_strategies")
    op.add_column(
        "trader_strategies",
        sa.Column("kind", sa.String(16), nullable=False, server_default="binding"),
    )
    op.add_column(
        "trader_strategies",
        sa.Column("symbols", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.create_index("ix_trader_strategies_user_id", "trader_strategies", ["user_id"])
    op.create_index("ix_trader_strategies_account_id", "trader_strategies", ["account_id"])
    dialect = op.get_bind().dialect.name
    op.execute(_COPY_PRIMARIES.format(empty_object=_EMPTY_OBJECT[dialect]))
    op.create_index(
        "uq_trader_strategies_primary",
        "trader_strategies",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'primary'"),
        postgresql_where=sa.text("kind = 'primary'"),
    )
    op.create_table(
        "strategy_runtime",
        sa.Column(
            "strategy_id",
            sa.Integer(),
            sa.ForeignKey(
                "trader_strategies.id",
                ondelete="CASCADE",
                name="fk_strategy_runtime_strategy_id_trader_strategies",
            ),
            primary_key=True,
        ),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_cycle_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute(
        "INSERT INTO strategy_runtime (strategy_id, next_run_at, last_cycle_at) "
        "SELECT s.id, t.next_run_at, t.last_cycle_at FROM trader_runtime t "
        "JOIN trader_strategies s ON s.account_id = t.account_id AND s.kind = 'primary'"
    )
    op.execute(
        "INSERT INTO strategy_runtime (strategy_id, next_run_at, last_cycle_at) "
        "SELECT b.binding_id, b.next_run_at, b.last_cycle_at FROM binding_runtime b "
        "JOIN trader_strategies s ON s.id = b.binding_id"
    )
    op.drop_table("binding_runtime")
    op.drop_table("account_strategies")
    with op.batch_alter_table("trader_runtime") as batch:
        batch.drop_column("next_run_at")
        batch.drop_column("last_cycle_at")


def downgrade() -> None:
    with op.batch_alter_table("trader_runtime") as batch:
        batch.add_column(sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_cycle_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "account_strategies",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_account_strategies_account_id_accounts"
            ),
            primary_key=True,
        ),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("trigger_interval", sa.Integer(), nullable=False),
        sa.Column("scheduled_trigger_enabled", sa.Boolean(), nullable=False),
        sa.Column("signal_pool_ids", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO account_strategies (account_id, prompt_id, program_id, symbols, "
        "trigger_interval, scheduled_trigger_enabled, signal_pool_ids, enabled, created_at, "
        "updated_at) SELECT account_id, prompt_id, program_id, symbols, trigger_interval, "
        "scheduled_trigger_enabled, signal_pool_ids, is_active, created_at, updated_at "
        "FROM trader_strategies WHERE kind = 'primary'"
    )
    op.execute(
        "UPDATE trader_runtime SET next_run_at = (SELECT r.next_run_at FROM strategy_runtime r "
        "JOIN trader_strategies s ON s.id = r.strategy_id WHERE s.kind = 'primary' "
        "AND s.account_id = trader_runtime.account_id), last_cycle_at = (SELECT r.last_cycle_at "
        "FROM strategy_runtime r JOIN trader_strategies s ON s.id = r.strategy_id "
        "WHERE s.kind = 'primary' AND s.account_id = trader_runtime.account_id)"
    )
    # The binding clocks wait aside: rebuilding trader_strategies below (SQLite) drops the
    # table, which would cascade to its clocks.
    op.create_table(
        "binding_runtime_old",
        sa.Column("binding_id", sa.Integer(), primary_key=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_cycle_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute(
        "INSERT INTO binding_runtime_old (binding_id, next_run_at, last_cycle_at) "
        "SELECT r.strategy_id, r.next_run_at, r.last_cycle_at FROM strategy_runtime r "
        "JOIN trader_strategies s ON s.id = r.strategy_id WHERE s.kind = 'binding'"
    )
    op.drop_table("strategy_runtime")
    op.execute("DELETE FROM trader_strategies WHERE kind = 'primary'")
    op.drop_index("uq_trader_strategies_primary", table_name="trader_strategies")
    op.drop_index("ix_trader_strategies_user_id", table_name="trader_strategies")
    op.drop_index("ix_trader_strategies_account_id", table_name="trader_strategies")
    with op.batch_alter_table("trader_strategies") as batch:
        batch.drop_column("symbols")
        batch.drop_column("kind")
    op.rename_table("trader_strategies", "strategy_bindings")
    op.create_index("ix_strategy_bindings_user_id", "strategy_bindings", ["user_id"])
    op.create_index("ix_strategy_bindings_account_id", "strategy_bindings", ["account_id"])
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
    op.execute(
        "INSERT INTO binding_runtime (binding_id, next_run_at, last_cycle_at) "
        "SELECT binding_id, next_run_at, last_cycle_at FROM binding_runtime_old"
    )
    op.drop_table("binding_runtime_old")
