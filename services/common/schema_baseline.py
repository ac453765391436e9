"""The tables every service has (db.common_tables) as the Alembic baselines created them: one
definition, called by each service's first revision."""

import sqlalchemy as sa
from alembic import op


def create_common_tables() -> None:
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


def drop_common_tables() -> None:
    op.drop_index('ix_outbox_unpublished', table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('inbox_sequences')
    op.drop_table('inbox')
    op.drop_table('idempotency')
    op.drop_table('event_sequences')
    op.drop_table('dead_letters')
    op.drop_index(op.f('ix_audit_log_subject_id'), table_name='audit_log')
    op.drop_table('audit_log')
