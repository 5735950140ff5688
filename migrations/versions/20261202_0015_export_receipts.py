"""Export receipts (导出回执): who exported which kind with which filters, the SHA-256 and size of
the bytes served, the audit chain's head, and an Ed25519 signature over all of it.  Found by the
exporter (its own list) and by a file's hash (`exports verify`), hence the two indexes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 03:00:59.466521

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('filters', sa.Text(), nullable=False),
    sa.Column('exported_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_head_id', sa.Integer(), nullable=True),
    sa.Column('audit_head_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signature', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['exported_by_id'], ['users.id'], name=op.f('fk_export_receipts_exported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_receipts'))
    )
    with op.batch_alter_table('export_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_receipts_exported_by_id'), ['exported_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_receipts_sha256'), ['sha256'], unique=False)



def downgrade():
    with op.batch_alter_table('export_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_receipts_sha256'))
        batch_op.drop_index(batch_op.f('ix_export_receipts_exported_by_id'))

    op.drop_table('export_receipts')
