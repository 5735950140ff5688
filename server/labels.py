"""The one table of words a person reads for every coded value the system stores or answers.

The console, the exports and the mini-program (through ``GET /labels``) take their Chinese from
here; no template or ledger keeps a table of its own.  Codes stay the machine's language (the API
answers them); a code with no label here is a defect the tests catch, not a raw code on a screen.
Checklist items and districts are reference data and come from the database beside these
(:func:`server.services.roster.reference.labels`).
"""
from server.models.complaint import CATEGORIES

LABELS = {
    "grade": {"A": "A 级", "B": "B 级", "C": "C 级"},
    "scale": {"small": "小型", "medium": "中型", "large": "大型"},
    "purifier_status": {"ok": "正常", "due_soon": "即将到期", "overdue": "清洗逾期", "never_cleaned": "从未清洗",
                        "no_purifier": "未安装净化设施"},
    "waste_status": {"ok": "正常", "overdue": "收运逾期", "no_contract": "无收运合同", "contract_expired": "合同过期"},
    "flag": {"waste_low": "收运量偏低", "open_complaint": "有未办结投诉"},
    "reason": {"not_active": "不参与评级", "no_purifier": "未安装净化设施", "purifier_overdue": "清洗逾期",
               "never_cleaned": "尚未登记清洗", "purifier_due_soon": "清洗即将到期",
               "purifier_undersized": "净化效率不达标", "no_contract": "无收运合同", "contract_expired": "合同过期",
               "waste_overdue": "收运逾期", "rectification_overdue": "整改逾期", "rectification_open": "整改未结案",
               "repeat_failure": "同一检查项重复不合格", "recent_failure": "近期检查有不合格项",
               "waste_low": "收运量偏低", "open_complaint": "有未办结投诉"},
    "shop_status": {"active": "正常营业", "suspended": "停业整顿", "closed": "已关闭"},
    "warning": {"district_mismatch": "坐标与登记区县不符"},
    "crs": {"wgs84": "WGS-84（GPS）", "gcj02": "GCJ-02（高德、腾讯地图）"},
    "shop_source": {"registration": "店主登记", "import": "名录导入", "patrol": "巡查登记"},
    "member_role": {"manager": "负责人", "staff": "店员"},
    "role": {"user": "普通用户", "owner": "店主", "collector": "收运人员", "collector_manager": "收运单位负责人",
             "inspector": "执法人员", "regulator": "监管人员", "admin": "管理员"},
    "change_request_status": {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"},
    "shop_field": {"name": "名称", "uscc": "统一社会信用代码", "address": "地址", "district_code": "区县",
                   "street": "街道", "lat": "纬度", "lng": "经度", "cooking_heads": "基准灶头数",
                   "open_air_bbq": "露天烧烤", "contact_name": "联系人", "contact_phone": "联系电话",
                   "purifier": "净化设施", "purifier_installed": "是否安装净化设施", "purifier_model": "净化设施型号",
                   "purifier_rated_efficiency": "净化效率", "installed": "是否安装", "model": "型号",
                   "rated_efficiency": "额定净化效率", "status": "营业状态"},
    "cleaning_part": {"purifier": "净化器", "hood": "集烟罩", "duct": "排烟管道", "fan": "风机"},
    "performed_by": {"self": "自行清洗", "company": "专业公司清洗"},
    "photo_role": {"before": "清洗前", "after": "清洗后", "invoice": "发票", "evidence": "证据照片",
                   "answer": "整改照片", "response": "整改答复照片", "weighing": "称重照片"},
    "photo_source": {"camera": "现场拍摄", "album": "相册选取"},
    "waste_type": {"kitchen_waste": "餐厨垃圾", "waste_oil": "废弃油脂"},
    "handover_status": {"pending": "待确认", "confirmed": "已确认", "disputed": "有争议", "rejected": "已拒收"},
    "party": {"shop": "店铺", "collector": "收运单位"},
    "check": {"purifier": "油烟净化设施", "waste": "餐厨废弃物", "outside": "店外经营"},
    "inspection_result": {"pass": "合格", "fail": "不合格", "na": "不适用", "not_checked": "未检查"},
    "rectification_status": {"open": "待整改", "submitted": "已答复待审核", "overdue": "逾期未整改", "closed": "已销号"},
    "rectification_action": {"created": "下达整改通知", "acknowledged": "店铺已签收", "responded": "店铺已答复",
                             "accepted": "复查通过", "rejected": "复查未通过"},
    "case_status": {"accepted": "受理", "assigned": "转办", "handled": "处置", "returned": "退回重办",
                    "closed": "结案", "sent_back": "回退", "overdue": "逾期", "extended": "延期",
                    "open": "办理中"},
    "case_source": {"rectification": "整改逾期", "handover": "联单争议", "hotline": "12345 热线",
                    "complaint": "市民投诉"},
    "card": {"yellow": "黄牌（即将到期）", "red": "红牌（已超期）"},
    "complaint_status": {"open": "待分办", "linked": "已关联店铺", "duplicate": "重复投诉", "not_ours": "非本部门职责",
                         "case": "已立案", "closed": "已办结"},
    "complaint_category": dict(CATEGORIES),
    "triage_action": {"link_shop": "关联店铺", "case": "立案处置", "duplicate": "重复投诉", "not_ours": "非本部门职责",
                      "close": "办结并答复"},
    "wechat_state": {"pending": "待发送", "sending": "发送中", "sent": "已发送", "no_quota": "未订阅（次数已用完）",
                     "failed": "发送失败", "quiet_hours": "免打扰时段，稍后发送", "not_subscribed": "未订阅"},
    "notification_kind": {"cleaning_due": "清洗提醒", "rectification_deadline": "整改期限提醒",
                          "handover_to_confirm": "联单待确认", "rectification_answered": "整改已答复",
                          "case_assigned": "案件转办"},
    "export_kind": {"compliance": "合规名录", "cleanings": "清洗台账", "handovers": "收运台账",
                    "inspections": "检查台账", "negative-list": "负面清单", "complaints": "投诉台账",
                    "hotline-cases": "12345 热线工单台账", "shops": "店铺地图（GeoJSON）"},
    "shop_sort": {"id": "登记顺序", "name": "名称", "-registered_on": "最新登记", "priority": "优先巡查"},
    "filter_field": {"district_code": "区县", "street": "街道", "grade": "等级", "purifier_status": "净化设施",
                     "waste_status": "餐厨废弃物", "flag": "提示", "status": "状态", "claimed": "认领",
                     "near": "附近", "radius_m": "半径", "q": "搜索", "sort": "排序", "page": "页码",
                     "per_page": "每页条数", "from": "开始日期", "to": "结束日期", "as_of": "评定日期",
                     "category": "类别", "shop_id": "店铺", "role": "角色", "_schema": "筛选条件"},
    "audit_action": {
        "auth.login": "登录", "auth.logout": "退出登录",
        "case.create": "立案", "case.extend": "案件延期", "case.follow_up": "案件回访", "case.transition": "案件流转",
        "cleaning.correct": "更正清洗记录", "cleaning.create": "登记清洗记录",
        "collector.create": "新增收运单位", "collector.update": "修改收运单位",
        "complaint.create": "收到投诉", "complaint.triage": "投诉分办",
        "contract.create": "登记收运合同", "demo.seed": "生成演示数据",
        "district.boundary_clear": "清除区县边界", "district.boundary_load": "载入区县边界",
        "export": "导出", "export_receipt": "查看导出回执",
        "handover.confirm": "确认联单", "handover.correct": "更正联单", "handover.create": "开具联单",
        "handover.reject": "拒收联单", "handover.settle": "裁定争议联单",
        "inspection.create": "登记检查", "inspection.void": "作废检查记录",
        "invitation.create": "发出邀请", "invitation.redeem": "接受邀请", "invitation.revoke": "撤销邀请",
        "open311.key_create": "创建 Open311 密钥", "open311.key_revoke": "吊销 Open311 密钥",
        "photo.purge_orphans": "清理未使用照片", "photo.upload": "上传照片",
        "rectification.acknowledge": "签收整改通知", "rectification.create": "下达整改通知",
        "rectification.respond": "答复整改通知", "rectification.review": "复查整改",
        "retention.run": "到期数据清理",
        "shop.change_request": "申请变更店铺信息", "shop.change_request_decision": "审批变更申请",
        "shop.claim": "认领店铺", "shop.claim_code": "签发认领码", "shop.join_code": "签发店员加入码", "shop.create": "登记店铺",
        "shop.history_read": "查看店铺历史",
        "shop.import": "导入店铺", "shop.import_file": "导入名录文件", "shop.manager_handover": "移交负责人",
        "shop.member_join": "店员加入", "shop.member_leave": "店员退出", "shop.member_remove": "移除店员",
        "shop.status": "变更营业状态", "shop.update": "修改店铺信息",
        "user.create": "新增用户", "user.create_admin": "创建管理员", "user.deactivate": "注销账号",
        "user.privacy_consent": "同意隐私政策", "user.change_password": "修改本人密码", "user.set_password": "设置后台密码", "user.update": "修改用户",
        "user.update_self": "修改个人信息", "workday.set": "设置工作日",
        "test.fixture": "测试数据",
    },
}


def value_text(field, value):
    """A shop field's value as a person reads it (a purifier is a group of fields)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "，".join(f"{label('shop_field', k)} {value_text(k, v)}" for k, v in value.items())
    if field in ("rated_efficiency", "purifier_rated_efficiency"):
        return f"{value:g}%" if isinstance(value, (int, float)) else f"{value}%"
    return str(value)


def changes_text(changes, previous):
    """``基准灶头数：3 → 6；…`` for an audit summary (a phone number is never written out)."""
    def shown(field, value):
        return "***" if field == "contact_phone" else value_text(field, value)
    return "；".join(f"{label('shop_field', k)}：{shown(k, previous.get(k))} → {shown(k, v)}" for k, v in changes.items())


class Unlabelled(KeyError):
    """A coded value with no word for it: a defect (the tests look for every one)."""


def label(kind, code):
    """The Chinese for ``code`` of ``kind``; ``None`` → "—".  Raises :class:`Unlabelled` for a code
    the table does not know, so a test sees it before a person does."""
    if code is None or code == "":
        return "—"
    try:
        return LABELS[kind][code]
    except KeyError:
        raise Unlabelled(f"no label for {kind}={code!r}") from None
