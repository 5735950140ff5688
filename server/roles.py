"""The role sets, named once: a permission check says which of these it means."""

STAFF_ROLES = ("inspector", "regulator", "admin")  # 城管 staff, each with a jurisdiction
REGULATOR_ROLES = ("regulator", "admin")  # exports, statistics, the roster's import, people, voiding
INSPECTOR_ROLES = ("inspector",)  # patrol, filing inspections, reviewing rectification answers
CONSOLE_ROLES = STAFF_ROLES  # accounts that may have a password and use the console (API.md)
COLLECTOR_ROLES = ("collector", "collector_manager")  # licensed collection companies' people
ROLES = ("user",) + COLLECTOR_ROLES + STAFF_ROLES
