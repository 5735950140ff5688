"""Hash chain over the audit trail (tamper evidence): every entry gets the previous entry's
hash and its own; existing entries are chained in id order.

The append-only triggers are lifted for the backfill and put back (SQLite's table rebuild
for NOT NULL would drop them anyway).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 22:19:43.166953

"""
import types

import sqlalchemy as sa
from alembic import op

from server.dbtypes import UTCDateTime
from server.services.audit import GENESIS, entry_digest


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = ("id", "at", "actor_id", "actor_role", "action", "object_type", "object_id", "shop_id",
           "client_addr", "summary")


def upgrade():
    drop_append_only_triggers()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    backfill()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_hash'), ['hash'], unique=False)
    create_append_only_triggers()


def backfill():
    entries = sa.table("audit_entries", *(sa.column(name) for name in COLUMNS if name != "at"),
                       sa.column("at", UTCDateTime()), sa.column("prev_hash"), sa.column("hash"))
    bind = op.get_bind()
    prev_hash, changes = GENESIS, []
    for row in bind.execute(sa.select(*(entries.c[name] for name in COLUMNS)).order_by(entries.c.id)):
        digest = entry_digest(types.SimpleNamespace(**row._mapping), prev_hash)
        changes.append({"entry_id": row.id, "prev": prev_hash, "digest": digest})
        prev_hash = digest
    for start in range(0, len(changes), 5000):
        bind.execute(entries.update().where(entries.c.id == sa.bindparam("entry_id"))
                     .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("digest")),
                     changes[start:start + 5000])


def create_append_only_triggers():
    """As revision 0001 made them."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit entries are append-only';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
        """)
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries
                BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END
            """)


def drop_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def downgrade():
    drop_append_only_triggers()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_hash'))
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    create_append_only_triggers()
