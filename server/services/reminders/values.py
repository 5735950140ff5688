"""A subscribe message's ``data``: each template keyword filled from the notification's values and
shaped to the keyword's type before sending, so WeChat never answers 47003 for our own formatting.

WeChat's types (the keyword's name without its number): ``thing`` ≤ 20 characters, ``phrase`` ≤ 5
Chinese characters, ``character_string`` ≤ 32 ASCII characters, ``number`` digits, ``name`` ≤ 10
characters, ``time`` and ``date``; no control characters anywhere.
"""
import datetime as dt
import re
import unicodedata

from server.clock import to_shanghai

# The mini-program page that opens each object (the id appended).
PAGES = {"shop": "pages/shop/detail?id=", "rectification": "pages/rectification/detail?id=",
         "handover": "pages/handover/detail?id=", "case": "pages/case/detail?id="}

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _plain(text):
    """No control or format characters, whitespace runs as one space."""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in str(text))
    return re.sub(r"\s+", " ", text).strip()


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit - 1] + "…"


def date_text(value):
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日"


def time_text(value):
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{to_shanghai(moment):%Y-%m-%d %H:%M}"


def shape(keyword, value):
    """``value`` as WeChat accepts it for ``keyword`` (e.g. ``thing1``, ``date2``)."""
    kind = re.sub(r"\d+$", "", keyword)
    if value is None or value == "":
        value = "—" if kind in ("thing", "name") else ""
    if kind == "date":
        return date_text(value) if value else ""
    if kind == "time":
        return time_text(value) if value else ""
    text = _plain(value)
    if kind == "phrase":
        return "".join(CJK.findall(text))[:5] or "提醒"
    if kind == "character_string":
        return "".join(ch for ch in text if 0x21 <= ord(ch) <= 0x7E)[:32] or "-"
    if kind == "number":
        return "".join(ch for ch in text if ch.isdigit() or ch == ".")[:32] or "0"
    if kind == "name":
        return _cut(text, 10)
    return _cut(text, 20)  # thing, and anything WeChat adds later: the strictest common length


def message_data(template, values):
    """``{"<keyword>": {"value": ...}}`` for ``template`` (from WECHAT_TEMPLATES)."""
    return {keyword: {"value": shape(keyword, values.get(source))} for keyword, source in template["fields"].items()}


def page(object_type, object_id):
    return PAGES[object_type] + str(object_id)
