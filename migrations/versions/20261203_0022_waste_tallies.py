"""Per-district daily totals of the slips in force (waste_tallies), kept by every write that changes
a slip, so the statistics read a quarter as a few thousand rows instead of summing ~350,000 slips
(SQLite, 50,000 shops: the waste sums of /stats/districts took 1.8 s).  Filled here from the slips.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 06:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

FILL = """
INSERT INTO waste_tallies (district_code, day, collector_company_id, waste_type, status, slips, centi_kg)
SELECT s.district_code, {day}, h.collector_company_id, h.waste_type, h.status, count(h.id),
       sum(CAST(round(coalesce(h.weighed_kg, h.declared_kg, 0) * 100) AS BIGINT))
FROM handovers h JOIN shops s ON s.id = h.shop_id
WHERE h.superseded_by_id IS NULL
GROUP BY s.district_code, {day}, h.collector_company_id, h.waste_type, h.status
"""
DAY = {"postgresql": "CAST(timezone('Asia/Shanghai', h.handed_over_at) AS DATE)",
       "sqlite": "date(h.handed_over_at, '+8 hours')"}


def upgrade():
    op.create_table('waste_tallies',
    sa.Column('district_code', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('collector_company_id', sa.Integer(), nullable=False),
    sa.Column('waste_type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('slips', sa.Integer(), nullable=False),
    sa.Column('centi_kg', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['collector_company_id'], ['collector_companies.id'],
                            name=op.f('fk_waste_tallies_collector_company_id_collector_companies')),
    sa.ForeignKeyConstraint(['district_code'], ['districts.code'],
                            name=op.f('fk_waste_tallies_district_code_districts')),
    sa.PrimaryKeyConstraint('district_code', 'day', 'collector_company_id', 'waste_type', 'status',
                            name=op.f('pk_waste_tallies'))
    )
    op.execute(FILL.format(day=DAY[op.get_bind().dialect.name]))


def downgrade():
    op.drop_table('waste_tallies')
