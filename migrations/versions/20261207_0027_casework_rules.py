"""Casework rules that data could break before:

- one case per 12345 ticket number: a unique partial index on (source, external_case_no) WHERE
  source = 'hotline' (two entries of one ticket at once had nothing to lock and made two cases);
- a complaint's shop lies in its district: a complaint linked to a shop of another district takes the
  shop's district (and so does a case opened from it), so whoever sees the shop's open-complaint flag
  or the case sees the complaint.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 20:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    twice = bind.execute(sa.text(
        "SELECT external_case_no, count(*) FROM cases WHERE source = 'hotline' "
        "GROUP BY external_case_no HAVING count(*) > 1")).all()
    if twice:
        numbers = ", ".join(f"{number} ({count} cases)" for number, count in twice)
        raise RuntimeError("12345 ticket numbers entered more than once; merge or renumber these cases "
                           f"before upgrading: {numbers}")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('uq_cases_hotline_number', ['source', 'external_case_no'], unique=True,
                              sqlite_where=sa.text("source = 'hotline'"),
                              postgresql_where=sa.text("source = 'hotline'"))
    shop_district = "(SELECT shops.district_code FROM shops WHERE shops.id = complaints.shop_id)"
    bind.execute(sa.text(f"UPDATE complaints SET district_code = {shop_district} "
                         f"WHERE shop_id IS NOT NULL AND district_code <> {shop_district}"))
    bind.execute(sa.text(
        "UPDATE cases SET district_code = (SELECT complaints.district_code FROM complaints "
        "WHERE complaints.id = cases.source_id) WHERE source = 'complaint' AND district_code <> "
        "(SELECT complaints.district_code FROM complaints WHERE complaints.id = cases.source_id)"))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('uq_cases_hotline_number', sqlite_where=sa.text("source = 'hotline'"),
                            postgresql_where=sa.text("source = 'hotline'"))
