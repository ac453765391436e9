"""cards: where the social zone was activated (the service window is a channel); an employer
unit's or community's hand-out deadline for a batch card (seed 003: within 10 days).

Revision ID: cards_0002
Revises: cards_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "cards_0002"
down_revision = "cards_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cards", sa.Column("activation_channel", sa.String(length=40), nullable=False, server_default=""))
    op.add_column("cards", sa.Column("handout_due", sa.String(length=10), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("cards", "handout_due")
    op.drop_column("cards", "activation_channel")
