"""Work queues and their action forms: change requests to decide, disputed slips, answered orders to
review, overdue orders, cases and their transitions, complaints to triage."""
from flask import render_template, request

from server import clock
from server.console import present
from server.console.blueprint import bp
from server.console.forms import load, own_filters, submit
from server.console.session import page, viewer
from server.pagination import PageArgs, page_of
from server.schemas.complaints import ComplaintQuerySchema, ComplaintSchema, TriageSchema
from server.schemas.inspections import (CaseInSchema, CaseQuerySchema, CaseSchema, CaseTransitionSchema,
                                        FollowUpSchema, RectificationQuerySchema, RectificationSchema, ReviewInSchema)
from server.schemas.records import HandoverQuerySchema, HandoverSchema
from server.schemas.shops import ChangeRequestSchema, DecisionSchema
from server.services import scope
from server.services.enforcement import cases, complaints, rectifications
from server.labels import label
from server.services.enforcement.cases import ENDED, TRANSITIONS
from server.services.records import handovers
from server.services.roster import change_requests

CASE_FILTERS = ("accepted", "assigned", "handled", "returned", "closed", "sent_back", "overdue")
TABS = {"changes": "变更申请", "disputed": "有争议联单", "review": "待审核整改", "overdue": "逾期整改",
        "cases": "案件", "complaints": "待分办投诉"}


def _tab(tab, page_args):
    user = viewer()
    if tab == "changes":
        return page_of(ChangeRequestSchema)().dump(change_requests.pending(user, page_args))
    if tab == "disputed":
        return page_of(HandoverSchema)().dump(handovers.list_handovers(
            user, HandoverQuerySchema().load({**page_args, "status": "disputed"})))
    if tab in ("review", "overdue"):
        status = "submitted" if tab == "review" else "overdue"
        return page_of(RectificationSchema)().dump(rectifications.list_for(
            user, RectificationQuerySchema().load({**page_args, "status": status})))
    if tab == "cases":
        query = {**page_args, **({"status": request.args["status"]} if request.args.get("status") else {})}
        args = load(CaseQuerySchema(), query)[0] or CaseQuerySchema().load(page_args)
        return page_of(CaseSchema)().dump(cases.list_for(user, args))
    return page_of(ComplaintSchema)().dump(complaints.list_for(
        user, ComplaintQuerySchema().load({**page_args, "status": "open"})))


@bp.route("/queues")
@page()
def queues():
    tab = request.args.get("tab", "changes")
    if tab not in TABS:
        tab = "changes"
    page_args = load(PageArgs(), {k: v for k, v in request.args.items() if k in ("page", "per_page")})[0]
    result = _tab(tab, page_args or PageArgs().load({}))
    filters = {"tab": tab, **own_filters(PageArgs())}  # what the pager carries on
    if tab == "cases" and request.args.get("status"):
        filters["status"] = request.args["status"]
    rows = result["items"]
    inspections = present.inspections_of(r.get("inspection_id") for r in rows) if tab in ("review", "overdue") else {}
    return render_template("console/queues.html", tabs=TABS, tab=tab, result=result, filters=filters,
                           inspections=inspections,
                           case_statuses=CASE_FILTERS, names=present.shop_names(r.get("shop_id") for r in rows),
                           people=present.people_names(r.get("assignee_id") for r in rows),
                           districts=present.district_names())


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
    return render_template("console/complaints.html", result=result, errors=errors, names=names,
                           args=own_filters(ComplaintQuerySchema())), \
        422 if errors else 200


@bp.route("/complaints/<int:complaint_id>/triage", methods=["POST"])
@page()
def triage_complaint(complaint_id):
    return submit(TriageSchema(), lambda v: complaints.triage(viewer(), complaint_id, v),
                  template="console/_triage_form.html", context={"complaint_id": complaint_id},
                  done=lambda r: f"投诉 #{complaint_id} 已处理" + (f"，已立案 #{r['case_id']}" if r.get("case_id") else ""))
