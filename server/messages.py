"""Validation messages in Chinese: marshmallow and webargs speak English; users read Chinese."""
import re

_EXACT = {
    "Missing data for required field.": "必填项",
    "Unknown field.": "未知字段",
    "Field may not be null.": "不能为空",
    "Invalid input type.": "数据类型错误",
    "Invalid value.": "取值无效",
    "Not a valid string.": "应为字符串",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Number too large.": "数值过大",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid date.": "日期格式应为 YYYY-MM-DD",
    "Not a valid datetime.": "时间格式应为带时区的 ISO 8601，例如 2024-03-22T09:30:00+08:00",
    "Not a valid aware datetime.": "时间必须带时区，例如 2024-03-22T09:30:00+08:00",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Not a valid tuple.": "应为列表",
    "Not a valid email address.": "邮箱格式不正确",
    "Not a valid URL.": "网址格式不正确",
    "Not a valid UUID.": "UUID 格式不正确",
    "String does not match expected pattern.": "格式不正确",
    "Invalid JSON body.": "请求体不是合法的 JSON",
}
_PATTERNS = [
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "长度不能少于 {0}"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "长度不能超过 {0}"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "长度应在 {0} 到 {1} 之间"),
    (re.compile(r"^Length must be (\d+)\.$"), "长度应为 {0}"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     "应在 {0} 到 {1} 之间"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "不能小于 {0}"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), "不能大于 {0}"),
    (re.compile(r"^Must be greater than (\S+)\.$"), "必须大于 {0}"),
    (re.compile(r"^Must be less than (\S+)\.$"), "必须小于 {0}"),
    (re.compile(r"^Must be one of: (.*)\.$"), "取值必须是以下之一：{0}"),
]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def is_chinese(message):
    return bool(_CJK.search(message))


def to_chinese(message):
    """Translate one validation message; our own messages are Chinese already."""
    if _CJK.search(message):
        return message
    if message in _EXACT:
        return _EXACT[message]
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return "取值无效（" + message + "）"


def flatten_messages(messages, prefix=""):
    """marshmallow's nested error dict → ``{"a.b": ["原因", ...]}``."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, name))
    elif isinstance(messages, (list, tuple)):
        strings = [m for m in messages if isinstance(m, str)]
        if strings:
            flat.setdefault(prefix or "_schema", []).extend(to_chinese(m) for m in strings)
        for item in messages:
            if not isinstance(item, str):
                flat.update(flatten_messages(item, prefix))
    elif messages is not None:
        flat.setdefault(prefix or "_schema", []).append(to_chinese(str(messages)))
    return flat


