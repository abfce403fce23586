"""The OpenAPI 3.0 description of the JSON API, served at /api/openapi.json.

Written by hand from the contract (/work/shared/CONTRACT.md); tests/security/test_openapi.py
fails when an /api/ route exists that is not described here, and the fuzz test drives it."""
from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR = {"$ref": "#/components/schemas/Error"}
DATE = {"type": "string", "format": "date", "example": "2026-01-31"}
RATE = {"type": "number", "minimum": 0, "maximum": 1, "nullable": True}


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    names = {400: "Bad request", 401: "No or invalid Bearer token", 403: "Role not allowed",
             404: "Not found", 413: "Body too large", 415: "Body is not JSON", 422: "Invalid fields",
             429: "Rate limited", 503: "Could not be recorded; try again"}
    return {str(code): _json(ERROR, names[code]) for code in codes}


def _query(name, schema, description="", required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _obj(required=(), **props):
    return {"type": "object", "required": list(required), "properties": props}


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 160}}
RANGE = [_query("from", DATE, "first day, inclusive (UTC)"), _query("to", DATE, "last day, inclusive (UTC)")]
BEARER = [{"bearerAuth": []}]

SCHEMAS = {
    "Error": _obj(["error"], error=STR, fields={"type": "object", "additionalProperties": True}),
    "SearchHit": _obj(["slug", "title", "url"], slug=STR, title=STR, locale=STR, category=STR, url=STR,
                      snippet=STR, score={"type": "number"}),
    "SearchResults": _obj(["query", "mode", "total", "results"], query=STR, mode=STR, total=INT,
                          took_ms={"type": "number"}, suggestion={"type": "string", "nullable": True},
                          page=INT, limit=INT, note={"type": "string", "nullable": True},
                          results={"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}}),
    "Suggestions": _obj(["suggestions"], suggestions={"type": "array", "items": _obj(
        ["slug", "title", "url"], slug=STR, title=STR, url=STR, locale=STR)}),
    "TicketSuggestions": _obj(["answered", "suggestions"], answered=BOOL, suggestions={"type": "array", "items": _obj(
        ["slug", "title", "url", "snippet", "confidence"], slug=STR, title=STR, url=STR, snippet=STR, locale=STR,
        confidence={"type": "number", "minimum": 0, "maximum": 1})}),
    "Article": _obj(["slug", "title", "locale", "category", "html", "updated_at", "translations"],
                    slug=STR, title=STR, locale=STR, category=STR, tags={"type": "array", "items": STR},
                    concept={"type": "string", "nullable": True}, summary=STR, html=STR, url=STR,
                    updated_at={"type": "string", "format": "date-time"},
                    translations={"type": "array", "items": _obj(["slug", "locale"], slug=STR, locale=STR,
                                                                 title=STR, url=STR)}),
    "Feedback": _obj([], helpful=BOOL, solved=BOOL, query={"type": "string", "maxLength": 500},
                     reason={"type": "string", "maxLength": 500}),
    "FeedbackRecorded": _obj(["article"], article=STR, helpful={"type": "boolean", "nullable": True},
                             solved={"type": "boolean", "nullable": True}, recorded=BOOL),
    "NewTicket": _obj(["email", "subject", "body"], email={"type": "string", "format": "email"},
                      subject={"type": "string", "maxLength": 200}, body={"type": "string", "maxLength": 20000},
                      query={"type": "string", "maxLength": 500}, article={"type": "string", "maxLength": 160},
                      name={"type": "string", "maxLength": 200}, category=STR, locale=STR),
    "TicketCreated": _obj(["id", "reference", "status", "url"], id=INT, reference=STR, status=STR, url=STR),
    "TicketStatus": _obj(["reference", "status", "subject", "messages"], reference=STR, status=STR, subject=STR,
                         created_at=STR, csat={"type": "integer", "nullable": True},
                         nps={"type": "integer", "nullable": True},
                         messages={"type": "array", "items": _obj(["from", "body"], author=STR, body=STR, at=STR,
                                                                  **{"from": STR})}),
    "SelfService": _obj(["from", "to", "visits", "self_served", "self_served_inferred", "escalated", "tickets",
                         "self_service_ratio", "self_service_ratio_with_inferred", "deflection_rate"],
                        **{"from": DATE, "to": DATE}, visits=INT, self_served=INT, self_served_inferred=INT,
                        escalated=INT, tickets=INT, self_service_ratio={"type": "number", "nullable": True},
                        self_service_ratio_with_inferred={"type": "number", "nullable": True},
                        deflection_rate=RATE, excluded_visits=INT,
                        excluded_by_reason=_obj([], automated=INT, burst=INT, vote_without_view=INT, no_cookie=INT)),
    "Gaps": _obj(["from", "to", "groups"], **{"from": DATE, "to": DATE}, groups={"type": "array", "items": _obj(
        ["label", "size", "queries"], label=STR, size=INT, sources={"type": "array", "items": STR},
        queries={"type": "array", "items": _obj(["query", "searches"], query=STR, searches=INT)})}),
    "TicketKpis": _obj(["from", "to", "volume", "backlog"], **{"from": DATE, "to": DATE}, volume=INT, backlog=INT,
                       first_reply_median_s={"type": "number", "nullable": True},
                       resolution_median_s={"type": "number", "nullable": True}, resolution_rate=RATE,
                       fcr_rate=RATE, csat={"type": "number", "nullable": True},
                       nps={"type": "number", "minimum": -100, "maximum": 100, "nullable": True},
                       sla_compliance=RATE),
}

PATHS = {
    "/api/search": {"get": {
        "summary": "Search the published articles (records a search event)",
        "operationId": "search",
        "parameters": [
            _query("q", {"type": "string", "maxLength": 500}, "the query"),
            _query("mode", {"type": "string", "enum": ["keyword", "semantic", "hybrid"]}),
            _query("locale", {"type": "string", "maxLength": 8}, "it, ro, en"),
            _query("category", {"type": "string", "maxLength": 80}),
            _query("prefer", {"type": "string", "maxLength": 8},
                   "the visitor's locale: translations fold into one result, this locale first"),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 50}),
            _query("page", {"type": "integer", "minimum": 1, "maximum": 100}),
        ],
        "responses": {"200": _json({"$ref": "#/components/schemas/SearchResults"}), **_errors(400, 429)},
    }},
    "/api/suggest": {"get": {
        "summary": "Search-as-you-type: titles holding the typed words (the last one as a prefix), one per concept",
        "operationId": "suggest",
        "parameters": [_query("q", {"type": "string", "maxLength": 200}, "what was typed"),
                       _query("locale", {"type": "string", "maxLength": 8},
                              "the visitor's language (it, ro, en; default: the UI's): its titles first")],
        "responses": {"200": _json({"$ref": "#/components/schemas/Suggestions"}), **_errors(400, 429)},
    }},
    "/api/articles/{slug}": {"get": {
        "summary": "One published article (records a view)",
        "operationId": "getArticle",
        "parameters": [SLUG],
        "responses": {"200": _json({"$ref": "#/components/schemas/Article"}), **_errors(404)},
    }},
    "/api/articles/{slug}/feedback": {"post": {
        "summary": "Say whether an article helped",
        "operationId": "articleFeedback",
        "parameters": [SLUG],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Feedback"}}}},
        "responses": {"201": _json({"$ref": "#/components/schemas/FeedbackRecorded"}, "Recorded"),
                      **_errors(400, 404, 413, 415, 429, 503)},
    }},
    "/api/tickets": {"post": {
        "summary": "Open a ticket; the answer's url is the customer's private status page",
        "operationId": "createTicket",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/NewTicket"}}}},
        "responses": {"201": _json({"$ref": "#/components/schemas/TicketCreated"}, "Created"),
                      **_errors(400, 413, 415, 422, 429)},
    }},
    "/api/tickets/suggest": {"get": {
        "summary": "Articles that may answer the ticket being written (the contact form; records no search)",
        "operationId": "suggestForTicket",
        "parameters": [_query("subject", {"type": "string", "maxLength": 200}, "longer text is cut"),
                       _query("body", {"type": "string", "maxLength": 10000}, "optional; longer text is cut"),
                       _query("locale", {"type": "string", "maxLength": 8}, "it, ro, en (default: the UI's)")],
        "responses": {"200": _json({"$ref": "#/components/schemas/TicketSuggestions"}), **_errors(400, 429)},
    }},
    "/api/tickets/status/{token}": {"get": {
        "summary": "A ticket's public thread, by the token of its status page",
        "operationId": "ticketStatus",
        "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}],
        "responses": {"200": _json({"$ref": "#/components/schemas/TicketStatus"}), **_errors(404)},
    }},
    "/api/metrics/self-service": {"get": {
        "summary": "Visits, self-served visits, escalations and the self-service ratio (lead or admin)",
        "operationId": "selfServiceMetrics",
        "security": BEARER,
        "parameters": RANGE + [_query("grain", {"type": "string", "enum": ["day", "week", "month"]},
                                      "adds a series")],
        "responses": {"200": _json({"$ref": "#/components/schemas/SelfService"}), **_errors(400, 401, 403)},
    }},
    "/api/metrics/gaps": {"get": {
        "summary": "Content gaps: the failed queries of the period grouped by meaning, largest first (lead or admin)",
        "operationId": "gapMetrics",
        "security": BEARER,
        "parameters": RANGE,
        "responses": {"200": _json({"$ref": "#/components/schemas/Gaps"}), **_errors(400, 401, 403)},
    }},
    "/api/metrics/tickets": {"get": {
        "summary": "Ticket KPIs: volume, backlog, reply and resolution times, CSAT, NPS, SLA (lead or admin)",
        "operationId": "ticketMetrics",
        "security": BEARER,
        "parameters": RANGE + [_query("interval", {"type": "string", "enum": ["day", "week", "month"]},
                                      "adds over_time")],
        "responses": {"200": _json({"$ref": "#/components/schemas/TicketKpis"}), **_errors(400, 401, 403)},
    }},
    "/api/openapi.json": {"get": {
        "summary": "This description",
        "operationId": "openapi",
        "responses": {"200": _json({"type": "object"})},
    }},
}


def spec():
    """Return the OpenAPI document as a dict."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Sportello JSON API", "version": "1",
                 "description": "Errors are JSON {error, fields} with a 4xx status. Writing requests take "
                                "JSON bodies only. The sportello_visitor cookie identifies a visitor."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                          "description": "sportello token create --email E"}}},
    }


@bp.get("/openapi.json")
def openapi_json():
    """Serve the OpenAPI description."""
    return jsonify(spec())


def init_app(app):
    """Serve /api/openapi.json."""
    app.register_blueprint(bp)
