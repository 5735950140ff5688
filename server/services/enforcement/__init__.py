"""末端严惩: inspections (一店三查), rectification orders and cases, and what their lists share."""
from server.clock import today


def by_status(statement, model, status, overdue):
    """A list of orders or cases filtered by ``status``: a stored status, or ``overdue`` — derived,
    by the compliance rules' ``overdue(status, deadline, on)`` on the columns."""
    if status == "overdue":
        return statement.where(overdue(model.status, model.deadline, today()))
    if status:
        return statement.where(model.status == status)
    return statement
