"""A disputed slip settled by staff (POST /handovers/{id}/settle): the accepted figure, who, when and why.
The figure counts before the weighed and declared ones, so the waste-window index carries it too (the
city's 30-day kitchen waste stays an index-only read).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 21:30:00

"""
from alembic import op
import sqlalchemy as sa



revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

WASTE_WINDOW_ROWS = ("waste_type = 'kitchen_waste' AND superseded_at IS NULL "
                     "AND status IN ('confirmed', 'disputed')")


def upgrade():
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_kg', sa.Numeric(precision=10, scale=2, asdecimal=False), nullable=True))
        batch_op.add_column(sa.Column('settled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('settle_reason', sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_handovers_settled_by_id_users'), 'users', ['settled_by_id'], ['id'])
        batch_op.drop_index('ix_handovers_waste_window')
        batch_op.create_index('ix_handovers_waste_window',
                              ['handed_over_at', 'shop_id', 'settled_kg', 'weighed_kg', 'declared_kg', 'bins',
                               'answered_at'], unique=False,
                              sqlite_where=sa.text(WASTE_WINDOW_ROWS), postgresql_where=sa.text(WASTE_WINDOW_ROWS))


def downgrade():
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('ix_handovers_waste_window')
        batch_op.create_index('ix_handovers_waste_window',
                              ['handed_over_at', 'shop_id', 'weighed_kg', 'declared_kg', 'bins', 'answered_at'],
                              unique=False, sqlite_where=sa.text(WASTE_WINDOW_ROWS),
                              postgresql_where=sa.text(WASTE_WINDOW_ROWS))
        batch_op.drop_constraint(batch_op.f('fk_handovers_settled_by_id_users'), type_='foreignkey')
        batch_op.drop_column('settle_reason')
        batch_op.drop_column('settled_at')
        batch_op.drop_column('settled_by_id')
        batch_op.drop_column('settled_kg')
