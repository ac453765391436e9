"""cards: baseline, the schema as the hand-written runner left it (its steps 1, 2, 1001, 1002).

Databases made by that runner (they have `schema_migrations`) are stamped to this revision
instead of running it (services/common/schema.py). Tables: audit_log, cards, dead_letters, event_sequences, idempotency, inbox, inbox_sequences, outbox, persons.

Revision ID: cards_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "cards_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject_id', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('agent', sa.String(length=400), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=False),
    sa.Column('actor', sa.String(length=200), server_default='', nullable=False),
    sa.Column('document', sa.String(length=64), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_log_subject_id'), 'audit_log', ['subject_id'], unique=False)
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
    op.create_table('dead_letters',
    sa.Column('consumer', sa.String(length=60), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('stream', sa.String(length=20), nullable=False),
    sa.Column('stream_seq', sa.BigInteger(), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('error', sa.String(length=400), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.Column('replayed_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('event_sequences',
    sa.Column('aggregate_id', sa.String(length=80), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('aggregate_id')
    )
    op.create_table('idempotency',
    sa.Column('method', sa.String(length=60), nullable=False),
    sa.Column('request_id', sa.String(length=80), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response', sa.LargeBinary(), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('method', 'request_id')
    )
    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=60), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('handled_us', sa.BigInteger(), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('inbox_sequences',
    sa.Column('consumer', sa.String(length=60), nullable=False),
    sa.Column('producer', sa.String(length=20), nullable=False),
    sa.Column('aggregate_id', sa.String(length=80), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'producer', 'aggregate_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('created_wall_us', sa.BigInteger(), nullable=False),
    sa.Column('published_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['published_us', 'id'], unique=False)
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
    op.drop_index('ix_outbox_unpublished', table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('inbox_sequences')
    op.drop_table('inbox')
    op.drop_table('idempotency')
    op.drop_table('event_sequences')
    op.drop_table('dead_letters')
    op.drop_index(op.f('ix_cards_person_id'), table_name='cards')
    op.drop_index('ix_cards_due', table_name='cards')
    op.drop_index('ix_cards_citizen', table_name='cards')
    op.drop_table('cards')
    op.drop_index(op.f('ix_audit_log_subject_id'), table_name='audit_log')
    op.drop_table('audit_log')
