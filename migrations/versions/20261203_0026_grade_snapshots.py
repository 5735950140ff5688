"""Grade tallies per district as of a past day, kept: /stats/districts for a period that ended before
today graded every shop as of its last day (50,000 shops: 4.2 s SQLite, 4.4 s PostgreSQL) on every
request, although the answer changes only when a shop's own row, a working-day override or a
retention run does (those stamp a counter the snapshots are checked against).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 07:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grade_snapshots',
    sa.Column('district_code', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tally', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['district_code'], ['districts.code'],
                            name=op.f('fk_grade_snapshots_district_code_districts')),
    sa.PrimaryKeyConstraint('district_code', 'day', name=op.f('pk_grade_snapshots'))
    )


def downgrade():
    op.drop_table('grade_snapshots')
