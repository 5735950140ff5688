"""Index shop_facts.refreshed_at: lists filtered or ranked by grade take each shop's standing from the
overview's held pass and grade again the shops whose facts were rewritten since it was made, found by
this index instead of a scan of every shop's row.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 07:00:00

"""
from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shop_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_facts_refreshed_at'), ['refreshed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('shop_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_facts_refreshed_at'))
