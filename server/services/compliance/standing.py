"""A shop's standing: the part of its compliance the lists filter and rank by, small enough to hold
for a whole city (the overview's graded pass keeps one per shop)."""
from array import array
from collections.abc import Mapping
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


class Standings(Mapping):
    """``{shop_id: Standing}`` for a whole city, compact: shop ids are dense integers, so each shop's
    standing is an entry of an array indexed by its id, pointing at one of the few hundred distinct
    standings a city has.  200,000 shops in a dict of tuples cost a worker ~40 MB; here ~1 MB, with a
    lookup as fast as the dict's."""

    def __init__(self, pairs):
        self._distinct, pool = [], {}
        self._ids, self._codes = array("q"), array("I")
        for shop_id, standing in pairs:
            code = pool.get(standing)
            if code is None:
                code = pool[standing] = len(self._distinct)
                self._distinct.append(standing)
            if shop_id >= len(self._codes):
                self._codes.extend([ABSENT] * (max(shop_id + 1, 2 * len(self._codes)) - len(self._codes)))
            if self._codes[shop_id] == ABSENT:
                self._ids.append(shop_id)
            self._codes[shop_id] = code

    @classmethod
    def from_codes(cls, ids, codes, distinct):
        """From the arrays a stored pass keeps: shop ids, each one's index in ``distinct``."""
        self = cls(())
        self._distinct, self._ids = distinct, ids
        self._codes = array("I", [ABSENT]) * (max(ids) + 1 if ids else 0)
        for shop_id, code in zip(ids, codes):
            self._codes[shop_id] = code
        return self

    def to_codes(self):
        """``(ids, codes, distinct)`` as :meth:`from_codes` takes them (a stored pass)."""
        return self._ids, array("I", (self._codes[shop_id] for shop_id in self._ids)), self._distinct

    def __getitem__(self, shop_id):
        if shop_id not in self:
            raise KeyError(shop_id)
        return self._distinct[self._codes[shop_id]]

    def __contains__(self, shop_id):
        return isinstance(shop_id, int) and 0 <= shop_id < len(self._codes) and self._codes[shop_id] != ABSENT

    def __iter__(self):
        return iter(self._ids)

    def __len__(self):
        return len(self._ids)


ABSENT = 2 ** 32 - 1


def matcher(wanted):
    """A test of a :class:`Standing` for every ``{grade, purifier_status, waste_status, flag}`` value
    asked for (made once for a list of a city's shops)."""
    fields = [(Standing._fields.index(key), value) for key, value in wanted.items() if key != "flag"]
    flag = wanted.get("flag")
    return lambda held: all(held[index] == value for index, value in fields) and (flag is None or flag in held[3])


def matches(compliance, wanted):
    """Whether a shop's compliance (or its :class:`Standing`) has every filter value asked for."""
    return matcher(wanted)(compliance if isinstance(compliance, Standing) else standing_of(compliance))
