"""All models, imported here so that Alembic and the app see every table."""
from server.models.audit import AuditEntry
from server.models.counter import Counter
from server.models.reference import ChecklistItem, ChecklistVersion, District

__all__ = ["AuditEntry", "ChecklistItem", "ChecklistVersion", "Counter", "District"]
