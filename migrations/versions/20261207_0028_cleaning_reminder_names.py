"""Cleaning reminders made before the fix named the shop "[]" (the finder read a stored-facts column
as the name): their text, and the values of those still to be sent to WeChat, take the shop's name.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 21:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

WRONG = "[]"


def upgrade():
    bind = op.get_bind()
    notifications = sa.table("notifications", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                             sa.column("object_type", sa.String), sa.column("object_id", sa.Integer),
                             sa.column("body", sa.String), sa.column("values", sa.JSON))
    shops = sa.table("shops", sa.column("id", sa.Integer), sa.column("name", sa.String))
    rows = bind.execute(sa.select(notifications.c.id, notifications.c.body, notifications.c["values"], shops.c.name)
                        .join(shops, shops.c.id == notifications.c.object_id)
                        .where(notifications.c.kind == "cleaning_due", notifications.c.object_type == "shop",
                               notifications.c.body.like(WRONG + "%"))).all()
    for ident, body, values, name in rows:
        if isinstance(values, dict) and values.get("shop_name") in (WRONG, []):
            values = dict(values, shop_name=name)
        bind.execute(notifications.update().where(notifications.c.id == ident)
                     .values(body=name + body[len(WRONG):], values=values))


def downgrade():
    pass  # the names were wrong; nothing to put back
