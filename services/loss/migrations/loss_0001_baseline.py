"""loss: baseline, the schema as the hand-written runner left it (its steps 1, 2, 1001, 1002).

Databases made by that runner (they have `schema_migrations`) are stamped to this revision
instead of running it (services/common/schema.py). Tables: audit_log, bank_notifications, card_losses, card_views, dead_letters, event_sequences, idempotency, inbox, inbox_sequences, loss_history, loss_period_expenses, outbox, refund_claims.

Revision ID: loss_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.schema_baseline import create_common_tables, drop_common_tables

revision = "loss_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables()
    op.create_table('bank_notifications',
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('bank_code', sa.String(length=20), nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('loss_state', sa.String(length=10), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('card_losses',
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('expires_us', sa.BigInteger(), nullable=True),
    sa.Column('reissue_applied', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('card_no')
    )
    op.create_index(op.f('ix_card_losses_expires_us'), 'card_losses', ['expires_us'], unique=False)
    op.create_table('card_views',
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('citizen_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('pin_enabled', sa.Boolean(), nullable=False),
    sa.Column('bank_code', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('card_no')
    )
    op.create_table('loss_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('what', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('agent', sa.String(length=400), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_loss_history_card_no'), 'loss_history', ['card_no'], unique=False)
    op.create_table('loss_period_expenses',
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('institution_code', sa.String(length=20), nullable=False),
    sa.Column('medfee_sumamt_fen', sa.BigInteger(), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index(op.f('ix_loss_period_expenses_report_id'), 'loss_period_expenses', ['report_id'], unique=False)
    op.create_table('refund_claims',
    sa.Column('claim_id', sa.String(length=40), nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('institution_code', sa.String(length=20), nullable=False),
    sa.Column('receipt_no', sa.String(length=60), nullable=False),
    sa.Column('expense_date', sa.String(length=10), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_note', sa.String(length=200), nullable=False),
    sa.Column('filed_by', sa.String(length=200), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('claim_id')
    )
    op.create_index(op.f('ix_refund_claims_report_id'), 'refund_claims', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_refund_claims_report_id'), table_name='refund_claims')
    op.drop_table('refund_claims')
    op.drop_index(op.f('ix_loss_period_expenses_report_id'), table_name='loss_period_expenses')
    op.drop_table('loss_period_expenses')
    op.drop_index(op.f('ix_loss_history_card_no'), table_name='loss_history')
    op.drop_table('loss_history')
    op.drop_table('card_views')
    op.drop_index(op.f('ix_card_losses_expires_us'), table_name='card_losses')
    op.drop_table('card_losses')
    op.drop_table('bank_notifications')
    drop_common_tables()
