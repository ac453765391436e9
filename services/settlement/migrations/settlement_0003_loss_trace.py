"""settlement: the trace of the loss report on the card projection (a refusal links to it).

Revision ID: settlement_0003
Revises: settlement_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "settlement_0003"
down_revision = "settlement_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("card_projections", sa.Column("loss_trace", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("card_projections", "loss_trace")
