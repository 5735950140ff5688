"""The console overview's last graded pass per jurisdiction, stored for every worker and machine:
one process grades (under a lease), the others read its result, and a worker that has just started
shows it at once instead of grading the city itself (4 s on 50,000 shops).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 07:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('overview_passes',
    sa.Column('jurisdiction', sa.String(length=400), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('jurisdiction', name=op.f('pk_overview_passes'))
    )


def downgrade():
    op.drop_table('overview_passes')
