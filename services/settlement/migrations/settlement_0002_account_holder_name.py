"""settlement: the holder's name on the account (the old medical card's loss view).

Revision ID: settlement_0002
Revises: settlement_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "settlement_0002"
down_revision = "settlement_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("name", sa.String(length=80), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("accounts", "name")
