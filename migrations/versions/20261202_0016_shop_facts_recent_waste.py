"""The plausibility window's kitchen-waste slips in each shop's facts (`recent_waste`), so today's
`waste_low` figure is read with the row.  Existing rows get NULL, which the reader answers from the
slips (correct, slower): run `flask --app wsgi facts refresh` once after upgrading.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 03:13:16.757197

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shop_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recent_waste', sa.Text(), nullable=True))



def downgrade():
    with op.batch_alter_table('shop_facts', schema=None) as batch_op:
        batch_op.drop_column('recent_waste')

