"""Forms and filters on console pages: the API's own In schemas validate what was typed, a
service does the work, and what failed is shown beside the field with what was typed kept."""
from urllib.parse import urlsplit

import marshmallow as ma
from flask import current_app, flash, redirect, render_template, request, url_for

from server.errors import ApiError
from server.extensions import db
from server.messages import flatten_messages

# A refusal shown on the form (the page stays, the typed values too); other statuses are error pages.
SHOWN_ON_FORM = (409, 422, 429)


def safe_next(target, default=None):
    """Only a path inside the console (no scheme, no host, no //evil.example, no control character or
    backslash a header could not carry); else ``default``, the overview unless given."""
    try:
        parts = urlsplit(target or "")
    except ValueError:  # e.g. "//[" (an unclosed IPv6 host)
        parts = urlsplit("")
    if not target or parts.scheme or parts.netloc or target.startswith("//") or not parts.path.startswith("/console") \
            or any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in target):
        return url_for("console.overview") if default is None else default
    return target


def own_filters(schema, *extra):
    """The page's own filters in the query string — what its ``schema`` knows, and ``extra`` — without
    the page number: what its pager and filter form carry on.  Anything else (``_anchor``,
    ``_external``, ``_method`` that ``url_for`` would obey, or any stray parameter) is dropped."""
    names = {field.data_key or name for name, field in schema.fields.items()} | set(extra)
    return {key: value for key, value in request.args.items()
            if key in names and key != "page" and not key.startswith("_") and value != ""}


def fields_of(source, schema, *, drop_empty=True):
    """The submitted values that ``schema`` knows (an empty field is "not given")."""
    values = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, ma.fields.List) and hasattr(source, "getlist"):
            chosen = [value for value in source.getlist(key) if value != ""]
            if chosen:  # a multiple choice left empty is "not given" (e.g. a jurisdiction: city-wide)
                values[key] = chosen
        elif key in source and not (drop_empty and source[key] == ""):
            values[key] = source[key]
    return values


def load(schema, source):
    """``(values, errors)``: the schema's load of ``source``, or ``{}`` and per-field Chinese messages."""
    try:
        return schema.load(fields_of(source, schema)), {}
    except ma.ValidationError as error:
        return {}, flatten_messages(error.messages)


def attempt(action):
    """Run ``action()``; ``(result, None)``, or ``(None, {"_": message, field: [messages]})`` when the
    service refused in a way the user can fix (nothing it did is kept)."""
    try:
        return action(), None
    except ApiError as failure:
        if failure.code not in SHOWN_ON_FORM:
            raise
        db.session.rollback()
        errors = dict(failure.fields or {})
        errors["_"] = failure.description or "提交的数据有误"
        return None, errors


def submit(schema, action, *, template, done, context=None, refresh=True):
    """A form post: validate with ``schema``, run ``action(values)``; on success flash ``done`` (a message,
    or a function of the result giving one) and go back where the form came from (or show the fragment
    ``template`` with ``ok`` for an htmx swap, and — ``refresh`` — have htmx reload the page, so what
    the action changed shows everywhere on it and a handled item leaves its list; a form that shows a
    one-time code keeps the page); otherwise show ``template`` again with the errors, 422."""
    values, errors = load(schema, request.form)
    result = None
    if not errors:
        result, errors = attempt(lambda: action(values))
    context = dict(context or {}, form=request.form, errors=errors or {})
    if errors:
        if request.headers.get("HX-Request"):
            return render_template(template, **context), 422
        return render_template("console/form_page.html", fragment=template, **context), 422
    message = done(result) if callable(done) else done
    if request.headers.get("HX-Request"):
        response = current_app.make_response(render_template(template, **context, ok=message, result=result))
        if refresh:
            flash(message)
            response.headers["HX-Refresh"] = "true"
        return response
    flash(message)
    return redirect(safe_next(request.form.get("back") or request.path), 303)
