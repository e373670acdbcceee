"""The JSON API, ``/api/v1``: the engine's staff operations for scripts and other systems, with personal tokens.

* **Authentication**: ``Authorization: Bearer wbs_…``, a personal token (:mod:`wbs_engine.apitokens`; made on
  the page ``/staf/akun/token`` or with ``wbs token create``). The guard of :mod:`webapp.auth` calls
  :func:`authenticate` (registered as ``app.extensions["wbs_api_auth"]``) before every view of this blueprint;
  no token, or a bad one, is 401. A browser's session cookie is **never** enough: the API reads only the
  header, which is why this blueprint, and only this one, is exempt from CSRF (a page on another site can
  make a browser send cookies, not this header).
* **Scope**: the token acts as its user with the grants they hold now; every view calls one engine operation,
  which checks role × unit × case type, recusal and what may be read (sealed fields only where the workflow
  grants it). No rule, query or permission lives here.
* **Description**: flask-smorest builds the OpenAPI 3 description from the marshmallow schemas below; it is
  served, public, at ``/api/v1/openapi.json`` (no documentation page: nothing is loaded from elsewhere).
* **Errors** are JSON, always: ``{"code", "message", "params"}`` from the engine (:meth:`WbsError.to_dict`)
  with its status; invalid input (the engine's, or a request that does not match the description) is 422
  ``invalid_input`` with ``params.fields`` (field → problem); unknown addresses under ``/api/v1`` are a JSON
  404; a bug is a JSON 500 without a trace. Messages are in the language of ``?lang=`` or
  ``Accept-Language`` (``id`` by default, ``en``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

import marshmallow as ma
from flask import Flask, Response, current_app, g, jsonify, request, stream_with_context
from flask_smorest import Api, Blueprint
from flask_smorest.fields import Upload
from marshmallow import validate
from werkzeug.exceptions import HTTPException

from wbs_engine import apitokens, files, queries, views
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ValidationFailed, WbsError
from wbs_engine.i18n import LOCALES, lang_of, render
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.permissions import Actor

from . import errors as pages
from .auth import current_actor, public_endpoint

PREFIX = "/api/v1"
MAX_INT = 2**31 - 1

bp = Blueprint(
    "api",
    __name__,
    url_prefix=PREFIX,
    description="Queues, cases, actions, messages and attachments, as the token's user may see and act on them.",
)


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def api_lang() -> str:
    """``?lang=id|en``, else the best of ``Accept-Language``, else Bahasa Indonesia (no cookie: not a browser)."""
    asked = request.args.get("lang")
    if asked in LOCALES:
        return asked
    return lang_of(request.accept_languages.best_match(LOCALES, default=None))


def authenticate() -> Actor | None:
    """The token's user from ``Authorization: Bearer …``, or None. Cookies are never looked at."""
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return apitokens.actor_for_token(wbs(), value.strip())


@bp.url_value_preprocessor
def _language(_endpoint: str | None, _values: dict | None) -> None:
    # runs before the app's before_request functions, so the guard's 401 speaks this language too
    g.wbs_lang = api_lang()


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # a case, a queue or a file must not stay in a cache
    return response


# --- errors: one JSON shape ----------------------------------------------------------------------------------

#: the code and message of an HTTP error that the engine did not raise (a bad address, a body too large…)
HTTP_ERRORS = {
    400: ("bad_request", _("The request could not be understood (is the body valid JSON?).")),
    401: ("unauthorized", _("A valid API token is required.")),
    403: ("not_allowed", _("Not allowed.")),
    404: ("not_found", _("There is no such address in the API.")),
    405: ("method_not_allowed", _("This address does not take this method.")),
    409: ("conflict", _("Not possible now.")),
    413: ("too_large", _("The request is larger than this service accepts.")),
    415: ("unsupported_media_type", _("This content type is not accepted here.")),
    422: ("invalid_input", _("Invalid data.")),
    429: ("too_many_requests", _("Too many requests; wait a little.")),
    500: ("server_error", _("Something went wrong on the server; nothing was changed. Try again in a moment.")),
}

#: marshmallow's and webargs' own words for a request that does not match the description, in the catalogue
SCHEMA_MESSAGES = {
    "Missing data for required field.": _("required"),
    "Unknown field.": _("not a field of this request"),
    "Field may not be null.": _("may not be empty (null)"),
    "Not a valid string.": _("must be text"),
    "Not a valid integer.": _("must be a whole number"),
    "Not a valid boolean.": _("must be true or false"),
    "Not a valid mapping type.": _("must be an object"),
    "Invalid input type.": _("wrong type"),
    "Not a valid file.": _("must be a file"),
}


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def engine_error_body(exc: WbsError, lang: str) -> dict[str, Any]:
    d = exc.to_dict(lang)
    return {"code": d["error"], "message": d["message"], "params": d["params"]}


def http_error_body(status: int, lang: str) -> dict[str, Any]:
    code, msgid = HTTP_ERRORS.get(status) or HTTP_ERRORS[500 if status >= 500 else 400]
    return {"code": code, "message": render(msgid, lang), "params": {}}


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """webargs' ``{location: {field: [words]}}`` (nested for objects) as ``{field: words}``."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for k, v in messages.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        out[prefix or "_"] = "; ".join(messages)
    elif isinstance(messages, list | tuple):
        for i, m in enumerate(messages):
            out.update(_flatten(m, f"{prefix}.{i}"))
    else:
        out[prefix or "_"] = str(messages)
    return out


def _schema_failure(data: dict[str, Any]) -> ValidationFailed:
    fields = _flatten(data.get("messages") or data.get("errors") or {})
    # drop the location (json, query, files) in front of each field: the description says where it goes
    named = {(k.split(".", 1)[1] if "." in k else k): v for k, v in fields.items()} or {"_": "?"}
    return ValidationFailed({k[:60]: SCHEMA_MESSAGES.get(v, v) for k, v in named.items()})


def _handle_engine(exc: WbsError) -> Response:
    problem = getattr(exc, "problem", None)
    if problem:  # a damaged attachment: how, for the admin's log (never shown to who asked)
        current_app.logger.error("%s on %s: %s", exc.code, request.path, problem)
    return error_response(exc.status, engine_error_body(exc, api_lang()))


def _handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None)
    if status == 422 and isinstance(data, dict):  # webargs: the request does not match the schema
        return _handle_engine(_schema_failure(data))
    headers = {"WWW-Authenticate": 'Bearer realm="wbs"'} if status == 401 else None
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers = {"Allow": ", ".join(exc.valid_methods)}  # type: ignore[attr-defined]
    return error_response(status, http_error_body(status, api_lang()), headers)


def _handle_bug(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s", request.path)
    return error_response(500, http_error_body(500, api_lang()))


bp.register_error_handler(WbsError, _handle_engine)
bp.register_error_handler(HTTPException, _handle_http)
bp.register_error_handler(Exception, _handle_bug)


def _outside_routes(exc: HTTPException):  # type: ignore[no-untyped-def]
    """404/405 for an address no view matched: JSON under /api/v1, the page everywhere else."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        return _handle_http(exc)
    return pages.error_page(exc.code or 500)


# --- schemas (the OpenAPI description is built from these) -------------------------------------------------


class Query(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # ?lang= and friends are not an error


class ErrorSchema(ma.Schema):
    code = ma.fields.Str(metadata={"description": "machine-readable code, e.g. not_allowed, changed_meanwhile"})
    message = ma.fields.Str(metadata={"description": "what went wrong, in the request's language"})
    params = ma.fields.Dict(
        metadata={"description": "the message's parameters; for invalid_input, `fields`: field → problem"}
    )


class QueueFilter(Query):
    unit = ma.fields.Str(validate=validate.Length(max=32), metadata={"description": "unit code"})
    type = ma.fields.Str(validate=validate.Length(max=40), metadata={"description": "case type, e.g. pengaduan"})
    search = ma.fields.Str(validate=validate.Length(max=200), metadata={"description": "case number or words"})


class QueuePageQuery(QueueFilter):
    cursor = ma.fields.Str(validate=validate.Length(max=500), metadata={"description": "next_cursor of a page"})
    limit = ma.fields.Int(
        load_default=queries.DEFAULT_LIMIT, validate=validate.Range(1, queries.MAX_LIMIT), strict=False
    )


class QueueCountSchema(ma.Schema):
    queue = ma.fields.Str()
    count = ma.fields.Int()
    capped = ma.fields.Bool(metadata={"description": "more than count (show count+)"})


class CountsSchema(ma.Schema):
    queues = ma.fields.List(ma.fields.Nested(QueueCountSchema))


class QueueItemSchema(ma.Schema):
    number = ma.fields.Str()
    case_type = ma.fields.Str()
    type_label = ma.fields.Str()
    state = ma.fields.Str()
    state_label = ma.fields.Str()
    unit = ma.fields.Str(allow_none=True)
    identity_mode = ma.fields.Str()
    next_due_at = ma.fields.DateTime(allow_none=True)
    due_status = ma.fields.Str(metadata={"description": "ok, due_soon or overdue"})
    assigned_to = ma.fields.Str(allow_none=True)
    version = ma.fields.Int(metadata={"description": "give it back as expected_version"})


class PageSchema(ma.Schema):
    queue = ma.fields.Str()
    items = ma.fields.List(ma.fields.Nested(QueueItemSchema))
    next_cursor = ma.fields.Str(allow_none=True)


_Obj = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Raw(allow_none=True))


class CaseSchema(ma.Schema):
    number = ma.fields.Str()
    type = ma.fields.Str()
    type_label = ma.fields.Str()
    workflow_version = ma.fields.Int()
    state = ma.fields.Str()
    state_label = ma.fields.Str()
    state_description = ma.fields.Str(allow_none=True)
    phase = ma.fields.Str(allow_none=True)
    final = ma.fields.Bool()
    unit = ma.fields.Str(allow_none=True)
    identity_mode = ma.fields.Str()
    version = ma.fields.Int(metadata={"description": "give it back as expected_version when firing"})
    created_at = ma.fields.Str()
    updated_at = ma.fields.Str()
    closed_at = ma.fields.Str(allow_none=True)
    recused = ma.fields.Raw(metadata={"description": "usernames, or {sealed: true} for who may not read the report"})
    fields = ma.fields.Dict(
        keys=ma.fields.Str(),
        values=ma.fields.Raw(allow_none=True),
        metadata={"description": "field → value; {sealed: true} where this user may not read it"},
    )
    clocks = ma.fields.List(_Obj)
    notices = ma.fields.List(ma.fields.Str())
    history = ma.fields.List(_Obj)
    actions = ma.fields.List(_Obj)
    messages = ma.fields.List(_Obj)
    viewer_roles = ma.fields.List(ma.fields.Str())


class HistorySchema(ma.Schema):
    case = _Obj
    events = ma.fields.List(_Obj)
    check = _Obj


class OptionSchema(ma.Schema):
    value = ma.fields.Str()
    label = ma.fields.Str()


class FormFieldSchema(ma.Schema):
    name = ma.fields.Str()
    type = ma.fields.Str()
    label = ma.fields.Str()
    help = ma.fields.Str(allow_none=True)
    required = ma.fields.Bool()
    min_length = ma.fields.Int(allow_none=True)
    max_length = ma.fields.Int(allow_none=True)
    min_value = ma.fields.Float(allow_none=True)
    max_value = ma.fields.Float(allow_none=True)
    options = ma.fields.List(ma.fields.Nested(OptionSchema))
    identity = ma.fields.Bool()
    contact = ma.fields.Bool()
    sealed = ma.fields.Bool()


class ActionSchema(ma.Schema):
    trigger = ma.fields.Str()
    label = ma.fields.Str()
    role = ma.fields.Str()
    to_state = ma.fields.Str(allow_none=True)
    fields = ma.fields.List(ma.fields.Nested(FormFieldSchema))
    reason = ma.fields.Bool(metadata={"description": "a reason is required"})
    extends = ma.fields.Str(allow_none=True)
    blocked = ma.fields.Str(allow_none=True, metadata={"description": "why it cannot be taken now"})


class ActionsSchema(ma.Schema):
    actions = ma.fields.List(ma.fields.Nested(ActionSchema))


class ActionsQuery(Query):
    include_blocked = ma.fields.Bool(load_default=False)


class FireSchema(ma.Schema):
    trigger = ma.fields.Str(required=True, validate=validate.Length(1, 64))
    data = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Raw(allow_none=True), load_default=dict)
    reason = ma.fields.Str(allow_none=True, load_default=None, validate=validate.Length(max=20000))
    expected_version = ma.fields.Int(
        required=True,
        strict=True,
        validate=validate.Range(0, MAX_INT),
        metadata={"description": "the version you read; a case changed since is refused (409 changed_meanwhile)"},
    )


class FiredSchema(ma.Schema):
    number = ma.fields.Str()
    trigger = ma.fields.Str()
    from_state = ma.fields.Str()
    to_state = ma.fields.Str()
    version = ma.fields.Int()
    role = ma.fields.Str()


class MessageSchema(ma.Schema):
    id = ma.fields.Int()
    author = ma.fields.Str()
    to_reporter = ma.fields.Bool()
    at = ma.fields.Str()
    body = ma.fields.Str()


class MessagesSchema(ma.Schema):
    messages = ma.fields.List(ma.fields.Nested(MessageSchema))


class NewMessageSchema(ma.Schema):
    body = ma.fields.Str(required=True, validate=validate.Length(max=20000))


class MessagePostedSchema(ma.Schema):
    id = ma.fields.Int()


class AttachmentSchema(ma.Schema):
    id = ma.fields.Int()
    number = ma.fields.Str()
    filename = ma.fields.Str()
    content_type = ma.fields.Str()
    kind = ma.fields.Str()
    size = ma.fields.Int()
    sha256 = ma.fields.Str()
    uploaded_at = ma.fields.DateTime()
    by_reporter = ma.fields.Bool()
    uploaded_by = ma.fields.Str()


class AttachmentsSchema(ma.Schema):
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema))


class UploadSchema(ma.Schema):
    file = Upload(required=True)


_FILE_DOC = {
    "200": {
        "description": "the file, as a download",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


# --- views ---------------------------------------------------------------------------------------------------


@bp.route("/openapi.json", methods=["GET"])
@bp.doc(security=[], summary="This description (OpenAPI 3)")
@public_endpoint
def openapi_json():  # type: ignore[no-untyped-def]
    return jsonify(current_app.extensions["wbs_api"].spec.to_dict())


def _filters(args: dict[str, Any]) -> dict[str, Any]:
    return {"unit": args.get("unit") or None, "case_type": args.get("type") or None, "search": args.get("search")}


@bp.route("/queues", methods=["GET"])
@bp.arguments(QueueFilter, location="query")
@bp.response(200, CountsSchema)
def queue_counts(args: dict[str, Any]):  # type: ignore[no-untyped-def]
    """How many cases each queue (mine, unassigned, due_soon, overdue) holds, capped at 100."""
    counted = queries.counts(wbs(), current_actor(), **_filters(args))
    return {"queues": [counted[q] for q in queries.QUEUES]}


@bp.route("/queues/<queue>", methods=["GET"])
@bp.arguments(QueuePageQuery, location="query")
@bp.response(200, PageSchema)
def queue_page(args: dict[str, Any], queue: str):  # type: ignore[no-untyped-def]
    """One page of a queue, sorted by the nearest due date; pass next_cursor back for the next page."""
    return queries.page(
        wbs(),
        current_actor(),
        queue,
        cursor=args.get("cursor"),
        limit=args["limit"],
        lang=api_lang(),
        **_filters(args),
    )


@bp.route("/cases/<number>", methods=["GET"])
@bp.response(200, CaseSchema)
def case(number: str):  # type: ignore[no-untyped-def]
    """The case as this user may see it: sealed fields only where the workflow lets them read (reading sealed
    data is recorded in the case's trail)."""
    return views.case_view(wbs(), number, current_actor(), api_lang())


@bp.route("/cases/<number>/history", methods=["GET"])
@bp.response(200, HistorySchema)
def case_history(number: str):  # type: ignore[no-untyped-def]
    """Every event of the case (sealed values only where this user may read them) and the trail's check."""
    return views.case_history(wbs(), number, current_actor(), api_lang())


def _action_dict(action: Any) -> dict[str, Any]:
    d = asdict(action)
    for f in d["fields"]:
        f["options"] = [{"value": v, "label": label} for v, label in f["options"]]
    return d


@bp.route("/cases/<number>/actions", methods=["GET"])
@bp.arguments(ActionsQuery, location="query")
@bp.response(200, ActionsSchema)
def actions(args: dict[str, Any], number: str):  # type: ignore[no-untyped-def]
    """What this user may do on the case now, each with the fields it asks and whether a reason is needed."""
    actor, lang = current_actor(), api_lang()
    found = wbs().available_actions(
        number, actor, lang, include_blocked=args["include_blocked"], refuse_unreadable=True
    )
    return {"actions": [_action_dict(a) for a in found]}


@bp.route("/cases/<number>/fire", methods=["POST"])
@bp.arguments(FireSchema, location="json")
@bp.response(200, FiredSchema)
def fire(body: dict[str, Any], number: str):  # type: ignore[no-untyped-def]
    """Take one action. A case changed since expected_version: 409 changed_meanwhile (read it again)."""
    return wbs().fire(
        number,
        body["trigger"],
        current_actor(),
        body["data"],
        reason=body.get("reason"),
        expected_version=body["expected_version"],
    )


@bp.route("/cases/<number>/messages", methods=["GET"])
@bp.response(200, MessagesSchema)
def messages(number: str):  # type: ignore[no-untyped-def]
    """The messages between the reporter and the handlers, for those who may read them (else an empty list)."""
    return {"messages": views.case_view(wbs(), number, current_actor(), api_lang())["messages"]}


@bp.route("/cases/<number>/messages", methods=["POST"])
@bp.arguments(NewMessageSchema, location="json")
@bp.response(201, MessagePostedSchema)
def post_message(body: dict[str, Any], number: str):  # type: ignore[no-untyped-def]
    """A message to the reporter (sealed; the reporter reads it on the tracking page)."""
    return {"id": wbs().post_message(number, current_actor(), body["body"])}


@bp.route("/cases/<number>/attachments", methods=["GET"])
@bp.response(200, AttachmentsSchema)
def attachments(number: str):  # type: ignore[no-untyped-def]
    """The files of the case this user may see (the listing is recorded when it shows any)."""
    return {"attachments": files.list_attachments(wbs(), number, current_actor())}


@bp.route("/cases/<number>/attachments/<int(max=2147483647):attachment_id>", methods=["GET"])
@bp.doc(responses=_FILE_DOC)
def attachment(number: str, attachment_id: int):  # type: ignore[no-untyped-def]
    """One file, as a download in its stored type; the opening is recorded before the first byte."""
    info, chunks = files.open_attachment(wbs(), number, attachment_id, current_actor())
    name = info.filename or f"lampiran-{attachment_id}"
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Length": str(info.size),
    }
    return Response(stream_with_context(chunks), mimetype=info.content_type, headers=headers)


@bp.route("/cases/<number>/attachments", methods=["POST"])
@bp.arguments(UploadSchema, location="files")
@bp.response(201, AttachmentSchema)
def attach(body: dict[str, Any], number: str):  # type: ignore[no-untyped-def]
    """Attach a file (multipart/form-data, field ``file``); its type is decided from its content."""
    upload = body["file"]
    return files.attach(wbs(), number, current_actor(), upload.filename or "", upload.stream)


# --- wiring --------------------------------------------------------------------------------------------------


class _Api(Api):
    """flask-smorest, with its error handler kept to this blueprint (the pages keep theirs: webapp/errors.py)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass  # the blueprint's handlers above answer in the engine's shape


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "wbs-engine")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    api = _Api(
        app,
        spec_kwargs={
            "info": {
                "description": "Case workflows of an integrity unit (pengaduan, gratifikasi, WBS, benturan "
                "kepentingan). Authenticate with a personal token: `Authorization: Bearer wbs_…` "
                "(made at /staf/akun/token). Errors: {code, message, params}."
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)
    app.extensions["wbs_api"] = api
    app.extensions["wbs_api_auth"] = authenticate
    app.extensions["csrf"].exempt(bp)  # only this blueprint: it never accepts a session cookie
    app.register_error_handler(404, _outside_routes)
    app.register_error_handler(405, _outside_routes)
