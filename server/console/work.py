"""Work queues and their action forms: change requests to decide, disputed slips, answered orders to
review, overdue orders, cases and their transitions, complaints to triage."""
import marshmallow as ma
from flask import render_template, request

from server import clock
from server.console import present
from server.console.blueprint import bp
from server.console.forms import load, own_filters, submit
from server.console.pages import districts_in_view
from server.console.session import page, viewer
from server.errors import fail
from server.pagination import AreaArgs, PageArgs, page_of
from server.schemas.complaints import ComplaintQuerySchema, ComplaintSchema, TriageSchema
from server.schemas.inspections import (CaseInSchema, CaseQuerySchema, CaseSchema, CaseTransitionSchema,
                                        FollowUpSchema, RectificationQuerySchema, RectificationSchema, ReviewInSchema)
from server.schemas.records import HandoverQuerySchema, HandoverSchema, SettleSchema
from server.schemas.shops import ChangeRequestSchema, DecisionSchema
from server.services import scope
from server.labels import label
from server.services.enforcement import cases, complaints, rectifications
from server.services.enforcement.cases import ENDED, TRANSITIONS
from server.services.records import handovers
from server.services.roster import change_requests

CASE_FILTERS = ("open", "overdue", "accepted", "assigned", "handled", "returned", "closed", "sent_back")
TABS = {"changes": "变更申请", "disputed": "有争议联单", "review": "待审核整改", "overdue": "逾期整改",
        "cases": "案件", "complaints": "待分办投诉"}
# Each queue: its list (the API's own service, scoped to the caller), oldest or nearest deadline first,
# holding only what still waits for someone — a handled item leaves it.
QUEUES = {
    "changes": (ChangeRequestSchema, lambda user, args: change_requests.pending(user, args)),
    "disputed": (HandoverSchema, lambda user, args: handovers.list_handovers(user, HandoverQuerySchema().load(
        {**args, "status": "disputed", "has_open_case": False, "sort": "handed_over_at"}))),
    "review": (RectificationSchema, lambda user, args: rectifications.list_for(
        user, RectificationQuerySchema().load({**args, "status": "submitted"}))),
    "overdue": (RectificationSchema, lambda user, args: rectifications.list_for(
        user, RectificationQuerySchema().load({**args, "status": "overdue"}))),
    "cases": (CaseSchema, lambda user, args: cases.list_for(user, CaseQuerySchema().load(
        {"status": "open", **args, "sort": "deadline"}))),
    "complaints": (ComplaintSchema, lambda user, args: complaints.list_for(user, ComplaintQuerySchema().load(
        {**args, "status": "open", "sort": "id"}))),
}


class QueueArgs(PageArgs, AreaArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(CASE_FILTERS))  # the cases tab's


@bp.route("/queues")
@page()
def queues():
    user = viewer()
    tab = request.args.get("tab", "changes")
    if tab not in TABS:
        tab = "changes"
    args, errors = load(QueueArgs(), {k: v for k, v in request.args.items() if k != "tab"})
    if errors:
        args = QueueArgs().load({})
    area = {k: args[k] for k in ("district_code", "street") if args.get(k)}
    if area.get("district_code") and area["district_code"] not in {d.code for d in districts_in_view()}:
        fail(404, "区县不存在或不在您的辖区内")
    if tab != "cases":
        args.pop("status", None)
    schema, listing = QUEUES[tab]
    result = page_of(schema)().dump(listing(user, args))
    counts = {key: result["total"] if key == tab else listing_(user, {**area, "page": 1, "per_page": 1})["total"]
              for key, (_schema, listing_) in QUEUES.items()}
    filters = {"tab": tab, **{k: v for k, v in args.items() if k not in ("page",) and v is not None}}
    rows = result["items"]
    inspections = present.inspections_of(r.get("inspection_id") for r in rows) if tab in ("review", "overdue") else {}
    return render_template("console/queues.html", tabs=TABS, tab=tab, result=result, filters=filters, counts=counts,
                           errors=errors, area=area, today=clock.today(), districts_in_view=districts_in_view(),
                           inspections=inspections, case_statuses=CASE_FILTERS,
                           nearby=present.nearby_for(rows) if tab == "complaints" else {},
                           names=present.shop_names(r.get("shop_id") for r in rows),
                           people=present.people_names(r.get("assignee_id") for r in rows),
                           districts=present.district_names())


@bp.route("/handovers/<int:handover_id>/settle", methods=["POST"])
@page()
def settle_handover(handover_id):
    return submit(SettleSchema(), lambda v: handovers.settle(viewer(), handover_id, v),
                  template="console/_settle_form.html", context={"handover_id": handover_id},
                  done=lambda r: f"联单 {r.serial} 已裁定：按 {r.settled_kg:g} kg 计入")


@bp.route("/change-requests/<int:request_id>/decision", methods=["POST"])
@page()
def decide_change_request(request_id):
    return submit(DecisionSchema(), lambda v: change_requests.decide(viewer(), request_id, v["approved"], v.get("note")),
                  template="console/_decision_form.html", context={"request_id": request_id},
                  done=lambda r: f"变更申请 #{request_id} 已{'批准' if r.status == 'approved' else '驳回'}")


@bp.route("/rectifications/<int:order_id>/review", methods=["POST"])
@page()
def review_order(order_id):
    return submit(ReviewInSchema(), lambda v: rectifications.review(viewer(), order_id, v),
                  template="console/_review_form.html", context={"order_id": order_id},
                  done=lambda r: f"整改通知 #{order_id} 已{'验收销号' if r.status == 'closed' else '退回重改'}")


@bp.route("/cases", methods=["POST"])
@page()
def open_case():
    return submit(CaseInSchema(), lambda v: cases.create(viewer(), v), template="console/_case_form.html",
                  done=lambda r: f"已立案 #{r.id}")


def _case_page(found):
    """What the case page and its transition form show beside the case."""
    dumped = CaseSchema().dump(found)
    people = {e["actor_id"] for e in dumped["events"]} | {found.assignee_id}
    return {"case": dumped, "moves": _moves(found), "assignees": present.assignees(found.district_code),
            "names": present.shop_names([found.shop_id]), "people": present.people_names(people)}


@bp.route("/cases/<int:case_id>")
@page()
def case(case_id):
    found = scope.get_case_for(viewer(), case_id)
    return render_template("console/case.html", **_case_page(found), form={}, errors={})


def _moves(case):
    """The transitions open to ``case`` (as the service allows them): 回退/延期 for a hotline ticket
    still running, 延期 once and only before its deadline."""
    moves = sorted(TRANSITIONS[case.status])
    if case.source != "hotline" or case.status in ENDED:
        return moves
    late = case.deadline is not None and clock.today() > case.deadline
    return moves + ["sent_back"] + ([] if case.extended_days is not None or late else ["extended"])


@bp.route("/cases/<int:case_id>/transitions", methods=["POST"])
@page()
def move_case(case_id):
    found = scope.get_case_for(viewer(), case_id)
    return submit(CaseTransitionSchema(), lambda v: cases.transition(viewer(), case_id, v),
                  template="console/_transition_form.html", context=_case_page(found),
                  done=lambda r: f"案件 {case_id} 已转为“{label('case_status', r.status)}”")


@bp.route("/cases/<int:case_id>/follow-up", methods=["POST"])
@page()
def follow_up_case(case_id):
    return submit(FollowUpSchema(), lambda v: cases.follow_up(viewer(), case_id, v),
                  template="console/_follow_up_form.html", context={"case_id": case_id},
                  done=f"案件 #{case_id} 的回访结果已记录")


@bp.route("/complaints")
@page()
def complaint_list():
    args, errors = load(ComplaintQuerySchema(), request.args)
    result = None if errors else page_of(ComplaintSchema)().dump(complaints.list_for(viewer(), args))
    names = present.shop_names(p.get("shop_id") for p in result["items"]) if result else {}
    nearby = present.nearby_for(result["items"]) if result else {}
    return render_template("console/complaints.html", result=result, errors=errors, names=names, nearby=nearby,
                           args=own_filters(ComplaintQuerySchema())), \
        422 if errors else 200


@bp.route("/complaints/<int:complaint_id>/triage", methods=["POST"])
@page()
def triage_complaint(complaint_id):
    found = ComplaintSchema().dump(scope.get_complaint_for(viewer(), complaint_id))
    return submit(TriageSchema(), lambda v: complaints.triage(viewer(), complaint_id, v),
                  template="console/_triage_form.html",
                  context={"complaint_id": complaint_id, "complaint": found, "nearby": present.nearby_for([found])},
                  done=lambda r: f"投诉 {complaint_id} 已处理" + (f"，已立案（案件 {r['case_id']}）" if r.get("case_id")
                                                              else ""))
