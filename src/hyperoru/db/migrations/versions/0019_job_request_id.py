"""jobs: the id of the request that queued a job, so its log lines carry it

Revision ID: 0019_job_request_id
Revises: 0004_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_job_request_id"
down_revision = "0004_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("request_id")
