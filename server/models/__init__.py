"""All models, imported here so that Alembic and the app see every table."""
from server.models.audit import AuditEntry
from server.models.collector import CollectorCompany
from server.models.complaint import Complaint, PartnerKey
from server.models.counter import Counter
from server.models.idempotency import IdempotencyKey
from server.models.inspection import (Case, CaseEvent, Inspection, InspectionItem, Rectification,
                                      RectificationEvent)
from server.models.invitation import Invitation
from server.models.notification import Notification, Subscription, WeChatToken
from server.models.grade_snapshot import GradeSnapshot
from server.models.overview_pass import OverviewPass
from server.models.photo import Photo, PhotoLink
from server.models.ratelimit import RateCount
from server.models.records import Cleaning, Handover
from server.models.receipt import ExportReceipt
from server.models.reference import ChecklistItem, ChecklistVersion, District
from server.models.shop import Contract, Shop, ShopChangeRequest, ShopCode, ShopMember, ShopStatusChange
from server.models.shop_facts import ShopFacts
from server.models.tallies import WasteTally
from server.models.user import AuthToken, LoginFailure, User
from server.models.workday import WorkdayOverride

__all__ = ["AuditEntry", "AuthToken", "Case", "CaseEvent", "Inspection", "InspectionItem", "Rectification",
           "RectificationEvent", "ChecklistItem", "ChecklistVersion", "Cleaning", "CollectorCompany",
           "Contract", "Counter", "District", "ExportReceipt", "Handover", "IdempotencyKey", "Invitation", "LoginFailure", "Photo",
           "PhotoLink", "RateCount", "Shop", "ShopChangeRequest", "ShopCode", "ShopFacts", "ShopMember",
           "ShopStatusChange", "User", "Notification", "Subscription", "WeChatToken",
           "WorkdayOverride", "Complaint", "PartnerKey", "WasteTally", "OverviewPass", "GradeSnapshot"]
