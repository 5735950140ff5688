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


def matcher(wanted):
    """A test of a :class:`Standing` for every ``{grade, purifier_status, waste_status, flag}`` value
    asked for (made once for a list of a city's shops)."""
    fields = [(Standing._fields.index(key), value) for key, value in wanted.items() if key != "flag"]
    flag = wanted.get("flag")
    return lambda held: all(held[index] == value for index, value in fields) and (flag is None or flag in held[3])


def matches(compliance, wanted):
    """Whether a shop's compliance (or its :class:`Standing`) has every filter value asked for."""
    return matcher(wanted)(compliance if isinstance(compliance, Standing) else standing_of(compliance))
