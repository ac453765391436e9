"""settlement: baseline, the schema as the hand-written runner left it (its steps 1, 2, 1001, 1002).

Databases made by that runner (they have `schema_migrations`) are stamped to this revision
instead of running it (services/common/schema.py). Tables: account_entries, accounts, audit_log, card_projections, dead_letters, event_sequences, filings, idempotency, inbox, inbox_sequences, legacy_accounts, loss_halts, outbox, reversals, settlements, sign_ins.

Revision ID: settlement_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.schema_baseline import create_common_tables, drop_common_tables

revision = "settlement_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables()
    op.create_table('account_entries',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('balance_after_fen', sa.BigInteger(), nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('entry_id')
    )
    op.create_index('ix_entries_person', 'account_entries', ['person_id', 'seq'], unique=False)
    op.create_table('accounts',
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('insured_category', sa.String(length=12), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('citizen_id', sa.String(length=18), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_index(op.f('ix_accounts_card_no'), 'accounts', ['card_no'], unique=False)
    op.create_index(op.f('ix_accounts_citizen_id'), 'accounts', ['citizen_id'], unique=False)
    op.create_table('card_projections',
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('card_state', sa.String(length=16), nullable=False),
    sa.Column('loss_state', sa.String(length=10), nullable=False),
    sa.Column('pin_enabled', sa.Boolean(), nullable=False),
    sa.Column('pin_hash', sa.String(length=64), nullable=False),
    sa.Column('pin_salt', sa.String(length=32), nullable=False),
    sa.Column('replaced_by_card_no', sa.String(length=20), nullable=False),
    sa.Column('wrong_pin_count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('card_no')
    )
    op.create_index(op.f('ix_card_projections_person_id'), 'card_projections', ['person_id'], unique=False)
    op.create_table('filings',
    sa.Column('filing_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('treatment_region_code', sa.String(length=12), nullable=False),
    sa.Column('valid_from', sa.String(length=10), nullable=False),
    sa.Column('valid_to', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('filing_id')
    )
    op.create_index(op.f('ix_filings_person_id'), 'filings', ['person_id'], unique=False)
    op.create_table('legacy_accounts',
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('legacy_card_no', sa.String(length=30), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('loss_halts',
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('reported_wall_us', sa.BigInteger(), nullable=False),
    sa.Column('halted_wall_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('report_id')
    )
    op.create_table('reversals',
    sa.Column('institution_code', sa.String(length=20), nullable=False),
    sa.Column('original_msg_id', sa.String(length=80), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('setl_id', sa.String(length=40), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('institution_code', 'original_msg_id')
    )
    op.create_table('settlements',
    sa.Column('setl_id', sa.String(length=40), nullable=False),
    sa.Column('institution_code', sa.String(length=20), nullable=False),
    sa.Column('msg_id', sa.String(length=80), nullable=False),
    sa.Column('card_no', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('care_type', sa.String(length=12), nullable=False),
    sa.Column('medfee_sumamt_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('acct_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('cash_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('deductible_fen', sa.BigInteger(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('setl_id'),
    sa.UniqueConstraint('institution_code', 'msg_id', name='uq_settlement_msg')
    )
    op.create_index('ix_settlements_person_year', 'settlements', ['person_id', 'year'], unique=False)
    op.create_table('sign_ins',
    sa.Column('institution_code', sa.String(length=20), nullable=False),
    sa.Column('business_date', sa.String(length=10), nullable=False),
    sa.Column('sign_no', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('institution_code', 'business_date')
    )


def downgrade() -> None:
    op.drop_table('sign_ins')
    op.drop_index('ix_settlements_person_year', table_name='settlements')
    op.drop_table('settlements')
    op.drop_table('reversals')
    op.drop_table('loss_halts')
    op.drop_table('legacy_accounts')
    op.drop_index(op.f('ix_filings_person_id'), table_name='filings')
    op.drop_table('filings')
    op.drop_index(op.f('ix_card_projections_person_id'), table_name='card_projections')
    op.drop_table('card_projections')
    op.drop_index(op.f('ix_accounts_citizen_id'), table_name='accounts')
    op.drop_index(op.f('ix_accounts_card_no'), table_name='accounts')
    op.drop_table('accounts')
    op.drop_index('ix_entries_person', table_name='account_entries')
    op.drop_table('account_entries')
    drop_common_tables()
