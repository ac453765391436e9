"""cards: baseline, the schema as the hand-written runner left it (its steps 1, 2, 1001, 1002).

Databases made by that runner (they have `schema_migrations`) are stamped to this revision
instead of running it (services/common/schema.py). Tables: audit_log, cards, dead_letters, event_sequences, idempotency, inbox, inbox_sequences, outbox, persons.

Revision ID: cards_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.schema_baseline import create_common_tables, drop_common_tables

revision = "cards_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables()
    op.create_table('cards',
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('citizen_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('pickup_certificate_no', sa.String(length=40), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('ready_by', sa.String(length=10), nullable=False),
    sa.Column('applied_us', sa.BigInteger(), nullable=False),
    sa.Column('activated_us', sa.BigInteger(), nullable=True),
    sa.Column('pin_hash', sa.String(length=64), nullable=False),
    sa.Column('pin_salt', sa.String(length=32), nullable=False),
    sa.Column('pin_enabled', sa.Boolean(), nullable=False),
    sa.Column('wrong_pin_count', sa.Integer(), nullable=False),
    sa.Column('replaces_card_no', sa.String(length=20), nullable=True),
    sa.Column('replaced_by_card_no', sa.String(length=20), nullable=False),
    sa.Column('failure_reason', sa.String(length=60), nullable=False),
    sa.Column('loss_state', sa.String(length=10), nullable=False),
    sa.Column('delivery', sa.String(length=16), server_default='outlet_pickup', nullable=False),
    sa.Column('delivery_address', sa.String(length=200), server_default='', nullable=False),
    sa.Column('employer_unit_id', sa.String(length=40), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('card_no'),
    sa.UniqueConstraint('pickup_certificate_no'),
    sa.UniqueConstraint('replaces_card_no')
    )
    op.create_index('ix_cards_citizen', 'cards', ['citizen_id'], unique=False)
    op.create_index('ix_cards_due', 'cards', ['state', 'ready_by'], unique=False)
    op.create_index(op.f('ix_cards_person_id'), 'cards', ['person_id'], unique=False)
    op.create_table('persons',
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('citizen_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('birth_date', sa.String(length=10), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('deceased', sa.Boolean(), nullable=False),
    sa.Column('employer_unit_id', sa.String(length=40), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_index(op.f('ix_persons_citizen_id'), 'persons', ['citizen_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_persons_citizen_id'), table_name='persons')
    op.drop_table('persons')
    op.drop_index(op.f('ix_cards_person_id'), table_name='cards')
    op.drop_index('ix_cards_due', table_name='cards')
    op.drop_index('ix_cards_citizen', table_name='cards')
    op.drop_table('cards')
    drop_common_tables()
