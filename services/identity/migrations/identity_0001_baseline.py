"""identity: baseline, the schema as the hand-written runner left it (its steps 1, 2, 1001, 1002).

Databases made by that runner (they have `schema_migrations`) are stamped to this revision
instead of running it (services/common/schema.py). Tables: audit_log, dead_letters, employer_units, event_sequences, idempotency, inbox, inbox_sequences, outbox, persons.

Revision ID: identity_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from services.common.schema_baseline import create_common_tables, drop_common_tables

revision = "identity_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables()
    op.create_table('employer_units',
    sa.Column('unit_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('unit_id'),
    sa.UniqueConstraint('credit_code')
    )
    op.create_table('persons',
    sa.Column('person_id', sa.String(length=40), nullable=False),
    sa.Column('citizen_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('birth_date', sa.String(length=10), nullable=False),
    sa.Column('gender', sa.String(length=6), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('insured_category', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('employer_unit_id', sa.String(length=40), nullable=False),
    sa.Column('registered_us', sa.BigInteger(), nullable=False),
    sa.Column('date_of_death', sa.String(length=10), nullable=True),
    sa.Column('coverage_start', sa.String(length=10), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('person_id'),
    sa.UniqueConstraint('citizen_id')
    )
    op.create_index('ix_persons_unit', 'persons', ['employer_unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_persons_unit', table_name='persons')
    op.drop_table('persons')
    op.drop_table('employer_units')
    drop_common_tables()
