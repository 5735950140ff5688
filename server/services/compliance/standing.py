"""A shop's standing: the part of its compliance the lists filter and rank by, small enough to hold
for a whole city (the overview's graded pass keeps one per shop)."""
from typing import NamedTuple


class Standing(NamedTuple):
    grade: str | None
    purifier_status: str | None
    waste_status: str | None
    flags: tuple
    priority: int


def standing_of(compliance):
    return Standing(compliance["grade"], compliance["purifier"]["status"], compliance["waste"]["status"],
                    tuple(flag["code"] for flag in compliance["flags"]), compliance["priority"])


def matches(compliance, wanted):
    """Whether a shop's compliance (or its :class:`Standing`) has every ``{grade, purifier_status,
    waste_status, flag}`` value asked for."""
    held = compliance if isinstance(compliance, Standing) else standing_of(compliance)
    for key, value in wanted.items():
        if not (value in held.flags if key == "flag" else getattr(held, key) == value):
            return False
    return True
