"""The compliance engine's rules (分类+精准): statuses, grade, reasons and priority of a shop on a date.

This module imports no database code: the facts are gathered elsewhere (``from_records``,
``stored``) and graded here, by one rule set, :func:`evaluate`.  What "overdue" means for an
order or a case is written once here, as expressions that work on Python values and on
SQLAlchemy columns alike, so lists, filters and exports share the definition.

"As of" a date D: only records received by the end of D count (backdating cannot rewrite the
past), a correction counts from when it was made, answers (confirm/reject/void/review) count
from when they were given, voided inspections count for nothing, and a shop that is not active
on D (suspended/closed from an effective date, or not yet registered) is left out (grade null).
"""
import datetime as dt
import statistics
from dataclasses import dataclass, field

from flask import current_app

from server.clock import end_of_day, start_of_day, to_shanghai, utcnow

SCALE_NAMES = {"small": "小型", "medium": "中型", "large": "大型"}
MIN_EFFICIENCY = {"small": 60.0, "medium": 75.0, "large": 85.0}  # GB 18483-2001, %
GRADE_WEIGHT = {"C": 2, "B": 1, "A": 0}
NEVER_INSPECTED_WEEKS = 999
OPEN_ACTIONS = ("created", "acknowledged", "rejected")  # the order is open after these events
COUNTING_SLIP_STATUSES = ("confirmed", "disputed")
FILTERS = ("grade", "purifier_status", "waste_status", "flag")
FLAGS = ("waste_low", "open_complaint")
# A flag raises patrol priority by one step: one grade band (a flagged A shop is visited with the Bs).
FLAG_PRIORITY_STEP = 1000
# Plausibility: the window of kitchen waste a shop is judged on, and how many peers with data a
# district-and-scale group needs for its median to be used (else the city-wide same-scale group).
WASTE_WINDOW_DAYS = 30
PEERS_MIN = 10


def scale_of(cooking_heads):
    """基准灶头数 (GB 18483-2001): 小型 1–2, 中型 3–5, 大型 ≥ 6."""
    return "small" if cooking_heads <= 2 else "medium" if cooking_heads <= 5 else "large"


def order_overdue(status, deadline, on):
    """整改逾期: an order ``open`` past its deadline (one ``submitted`` waits on the inspector).
    Works on values (a bool) and on columns (a SQL condition)."""
    return (status == "open") & (deadline < on)


def order_status_after(action):
    """An order's status after its latest event (how the engine reads an order "as of" a date)."""
    return "open" if action in OPEN_ACTIONS else "closed" if action == "accepted" else "submitted"


CASE_ENDED = ("closed", "sent_back")  # 结案, and 回退 (a hotline ticket handed back: not ours)


def case_overdue(status, deadline, on):
    """案件逾期: not ended and past its deadline (a case without one is never overdue).
    Works on values (a bool) and on columns (a SQL condition)."""
    if deadline is None:  # a value only: a column is never None
        return False
    if isinstance(status, str):
        return status not in CASE_ENDED and deadline < on
    return status.not_in(CASE_ENDED) & (deadline < on)


@dataclass(slots=True)
class Facts:
    """What the records say about one shop as of a date (gathered per shop or in bulk)."""

    shop_id: int
    registered_on: dt.date
    cooking_heads: int
    purifier_installed: bool
    rated_efficiency: float | None
    status: str = "active"
    last_cleaned_on: dt.date | None = None
    last_handover_at: dt.datetime | None = None
    any_contract: bool = False
    valid_contract: bool = False
    open_orders: int = 0
    overdue_orders: int = 0
    failures: dict = field(default_factory=dict)  # checklist code → inspections that failed it (12 months)
    open_complaints: int = 0  # citizens' complaints linked to the shop and not yet dealt with
    last_inspected_at: dt.datetime | None = None
    district_code: str | None = None
    waste_kg: float | None = None  # kitchen waste confirmed in the plausibility window; None: no data


def as_of_bounds(as_of):
    """(cutoff, moment): records received before ``cutoff`` count; ``moment`` is when "now" is."""
    cutoff = end_of_day(as_of)
    return cutoff, min(utcnow(), cutoff)


def current_settings():
    config = current_app.config
    small, medium, large = (dt.timedelta(days=days) for days in config["PURIFIER_INTERVAL_DAYS"])
    return {"interval": {"small": small, "medium": medium, "large": large},
            "due_soon": dt.timedelta(days=config["DUE_SOON_DAYS"]),
            "gap": dt.timedelta(days=config["WASTE_MAX_GAP_DAYS"]),
            "pending": dt.timedelta(hours=config["PENDING_SLIP_HOURS"]),
            "waste_low_share": config["WASTE_LOW_SHARE"], "kg_per_bin": config["WASTE_KG_PER_BIN"]}


def pending_window():
    return current_settings()["pending"]


# --- plausibility (waste_low) -----------------------------------------------------------------

def waste_window(as_of):
    """The first day of the plausibility window ending on ``as_of`` (30 days, ``as_of`` included)."""
    return as_of - dt.timedelta(days=WASTE_WINDOW_DAYS - 1)


def slip_kg(weighed, declared, bins, kg_per_bin, settled=None):
    """A slip's kg: the figure staff settled a dispute on, else weighed, else declared, else its bins at
    the configured kg a bin (None: no quantity)."""
    for kg in (settled, weighed, declared):
        if kg is not None:
            return float(kg)
    return bins * kg_per_bin if bins is not None else None


def per_head_day(kg, cooking_heads, registered_on, as_of):
    """Kitchen waste per cooking head per day over the window (or the days since registration,
    when fewer)."""
    days = max(1, min(WASTE_WINDOW_DAYS, (as_of - registered_on).days + 1))
    return float(kg) / max(1, cooking_heads) / days


class Peers:
    """The peer medians of kitchen waste per cooking head per day, by district and scale (groups
    of at least :data:`PEERS_MIN` shops with data) and city-wide by scale."""

    def __init__(self, figures):
        """``figures``: ``(district_code, scale, kg per head per day)`` of every shop with data."""
        groups, city = {}, {}
        for district, scale, figure in figures:
            groups.setdefault((district, scale), []).append(figure)
            city.setdefault(scale, []).append(figure)
        self.district = {key: statistics.median(values) for key, values in groups.items() if len(values) >= PEERS_MIN}
        self.city = {key: statistics.median(values) for key, values in city.items() if len(values) >= PEERS_MIN}

    def median(self, district, scale):
        """``(median, basis)`` — basis ``district`` or ``city`` — or None when too few peers have data."""
        if (district, scale) in self.district:
            return self.district[district, scale], "district"
        if scale in self.city:
            return self.city[scale], "city"
        return None


NO_PEERS = Peers(())


def waste_low(facts, as_of, peers, share):
    """The ``waste_low`` flag with its figures, or None (no data, too few peers, or not low)."""
    if facts.waste_kg is None:
        return None
    scale = scale_of(facts.cooking_heads)
    found = peers.median(facts.district_code, scale)
    if found is None:
        return None
    median, basis = found
    figure = per_head_day(facts.waste_kg, facts.cooking_heads, facts.registered_on, as_of)
    # Compared to the milligram, so a figure at exactly the share (common: kg are round numbers) is
    # not "below" by a floating-point hair, in Python as in SQL.
    if not round(figure, 6) < round(share * median, 6):
        return None
    group = "本区县同规模" if basis == "district" else "全市同规模"
    return {"code": "waste_low", "kg_per_head_day": round(figure, 3), "peer_median": round(median, 3),
            "message": f"近 {WASTE_WINDOW_DAYS} 天餐厨垃圾每灶头每日 {figure:.2f} kg，"
                       f"低于{group}店铺中位数 {median:.2f} kg 的 {share:.0%}（线索，不影响评级）"}


def open_complaint(facts):
    """线索: a citizen's complaint about the shop is still open — the inspector should look."""
    if facts.open_complaints:
        return {"code": "open_complaint", "message": f"有 {facts.open_complaints} 条市民投诉尚未办结"}
    return None


def evaluate(facts, as_of, settings=None, moment=None, peers=NO_PEERS):
    """The one rule set: facts → statuses, grade with reasons, flags, priority.  ``settings`` and
    ``moment`` (from :func:`current_settings` and :func:`as_of_bounds`) may be given by a caller
    grading many shops on one date; ``peers`` (:class:`Peers`) decides ``waste_low``."""
    settings = settings or current_settings()
    moment = moment or as_of_bounds(as_of)[1]
    if facts.registered_on > as_of or facts.status != "active":
        why = "店铺尚未登记" if facts.registered_on > as_of else {
            "suspended": "店铺停业整顿或装修中，不参与评级", "closed": "店铺已关闭，不参与评级"}[facts.status]
        return {"as_of": as_of, "active": False, "purifier": {"status": None, "last_cleaned_on": None, "due_on": None},
                "waste": {"status": None, "last_handover_at": None}, "rectification": {"open": 0, "overdue": 0},
                "grade": None, "reasons": [{"code": "not_active", "message": why}], "flags": [], "priority": 0}
    scale = scale_of(facts.cooking_heads)
    c_reasons, b_reasons = [], []

    # 净化设施
    due_on = None
    if not facts.purifier_installed:
        purifier = "no_purifier"
        c_reasons.append({"code": "no_purifier", "message": "未安装油烟净化设施"})
    else:
        cleaned = facts.last_cleaned_on
        due_on = (cleaned or facts.registered_on) + settings["interval"][scale]
        if as_of > due_on:
            purifier = "overdue"
            late = (as_of - due_on).days
            c_reasons.append({"code": "purifier_overdue", "message": f"油烟净化设施清洗已逾期 {late} 天" if cleaned
                              else f"从未登记清洗记录，已逾期 {late} 天"})
        elif cleaned is None:
            purifier = "never_cleaned"
            b_reasons.append({"code": "never_cleaned", "message": f"尚未登记清洗记录，请于 {due_on} 前完成首次清洗"})
        elif as_of >= due_on - settings["due_soon"]:
            purifier = "due_soon"
            b_reasons.append({"code": "purifier_due_soon",
                              "message": f"油烟净化设施应于 {due_on} 前清洗（还有 {(due_on - as_of).days} 天）"})
        else:
            purifier = "ok"
        efficiency = facts.rated_efficiency
        if efficiency is not None and efficiency < MIN_EFFICIENCY[scale]:
            c_reasons.append({"code": "purifier_undersized", "message": f"净化设施额定去除效率 {efficiency:g}% 低于"
                              f"{SCALE_NAMES[scale]}餐饮的最低要求 {MIN_EFFICIENCY[scale]:g}%"})

    # 餐厨废弃物
    if not facts.any_contract:
        waste = "no_contract"
        c_reasons.append({"code": "no_contract", "message": "未与有资质的收运单位签订收运合同"})
    elif not facts.valid_contract:
        waste = "contract_expired"
        c_reasons.append({"code": "contract_expired", "message": "收运合同或收运单位许可证已过期"})
    else:
        since = facts.last_handover_at or start_of_day(facts.registered_on)
        if moment - since > settings["gap"]:
            waste = "overdue"
            last = to_shanghai(facts.last_handover_at).date() if facts.last_handover_at else "无"
            c_reasons.append({"code": "waste_overdue",
                              "message": f"超过 {settings['gap'].days} 天未交接餐厨废弃物（最近一次：{last}）"})
        else:
            waste = "ok"

    # 整改与检查
    if facts.overdue_orders:
        c_reasons.append({"code": "rectification_overdue",
                          "message": f"有 {facts.overdue_orders} 份整改通知逾期未整改"})
    if facts.open_orders:
        b_reasons.append({"code": "rectification_open", "message": f"有 {facts.open_orders} 份整改通知尚未结案"})
    failures = facts.failures
    if failures:
        repeated = sorted(code for code, count in failures.items() if count >= 2)
        # The items by code (their text is reference data: GET /labels' checklist_item names them).
        if repeated:
            c_reasons.append({"code": "repeat_failure", "checklist_items": repeated,
                              "message": f"12 个月内有 {len(repeated)} 个检查项重复不合格"})
        b_reasons.append({"code": "recent_failure", "checklist_items": sorted(failures),
                          "message": f"12 个月内检查有 {len(failures)} 个不合格项"})

    grade = "C" if c_reasons else "B" if b_reasons else "A"
    if facts.last_inspected_at is None:
        weeks = NEVER_INSPECTED_WEEKS
    else:
        weeks = min(NEVER_INSPECTED_WEEKS, (as_of - to_shanghai(facts.last_inspected_at).date()).days // 7)
    # 线索 (leads for the inspector): no grade change, one priority step each.
    flags = [flag for flag in (waste_low(facts, as_of, peers, settings["waste_low_share"]), open_complaint(facts))
             if flag]
    return {"as_of": as_of, "active": True,
            "purifier": {"status": purifier, "last_cleaned_on": facts.last_cleaned_on, "due_on": due_on},
            "waste": {"status": waste, "last_handover_at": facts.last_handover_at},
            "rectification": {"open": facts.open_orders, "overdue": facts.overdue_orders},
            "grade": grade, "reasons": c_reasons if grade == "C" else b_reasons, "flags": flags,
            "priority": GRADE_WEIGHT[grade] * 1000 + FLAG_PRIORITY_STEP * len(flags) + weeks}


def needs_peers(facts):
    """Whether grading these facts needs the peer medians (some shop has waste data)."""
    return any(f.waste_kg is not None for f in facts.values())


def grade_all(facts, as_of, peers=NO_PEERS):
    """``{shop_id: Facts}`` → ``{shop_id: compliance}`` on one date."""
    settings, moment = current_settings(), as_of_bounds(as_of)[1]
    return {shop_id: evaluate(f, as_of, settings, moment, peers) for shop_id, f in facts.items()}
