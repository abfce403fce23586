"""Customer pages of ticketing: the contact form and the private status page."""
from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request

from portal import tickets as desk
from portal.db import get_session
from portal.i18n import get_locale, gettext as _
from portal.ticket_forms import CATEGORY_LABELS, CustomerReplyForm, RatingForm, TicketForm, nps_value
from ticketing import service
from ticketing.errors import InvalidTicket, TicketError, TicketNotFound

bp = Blueprint("tickets", __name__, url_prefix="/tickets")


def _apply_errors(form, fields):
    """Put a service's field errors on the form, so the page shows them next to each field."""
    for name, message in fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """The contact form, prefilled from ?q= (the last search) and ?article= (the article read)."""
    form = TicketForm()
    query = (request.values.get("q") or "").strip()[:200]
    article = (request.values.get("article") or "").strip()[:160]
    if request.method == "GET":
        form.q.data, form.article.data = query, article
        if query and not form.subject.data:
            form.subject.data = query[:service.SUBJECT_MAX]
        desk.record("escalation_started", query=query or None, article=article or None)
    if form.validate_on_submit():
        data = service.NewTicket(
            email=form.email.data, subject=form.subject.data, body=form.body.data, name=form.name.data or "",
            category=form.category.data, locale=get_locale(), visitor_id=g.get("visitor_id") or "",
            context=desk.visit_context(query, article), source="web")
        try:
            ticket = desk.open_ticket(data, query, article)
        except InvalidTicket as exc:
            _apply_errors(form, exc.fields)
        else:
            flash(_("Thank you: your request {reference} is registered. Keep this page's address to follow it.",
                    reference=ticket.reference))
            return redirect(desk.status_url(ticket))
    status = 400 if request.method == "POST" else 200
    return render_template("tickets/new.html", form=form, query=query, article=article,
                           categories=CATEGORY_LABELS), status


def _ticket_or_404(token):
    try:
        return service.get_by_token(get_session(), token)
    except TicketNotFound:
        abort(404)


def _private(response):
    """The status page's address is its key: keep it out of caches, referrers and search engines."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _status_page(ticket, reply_form=None, rating_form=None, code=200):
    messages = [m for m in ticket.messages if m.is_public]
    page = render_template("tickets/status.html", ticket=ticket, messages=messages,
                           reply_form=reply_form or CustomerReplyForm(formdata=None),
                           rating_form=rating_form or RatingForm(formdata=None),
                           can_rate=ticket.status in ("solved", "closed") and (ticket.csat is None or ticket.nps is None),
                           categories=CATEGORY_LABELS)
    return _private((page, code))


@bp.get("/s/<token>")
def status(token):
    """The customer's private status page: the thread, a reply box and, once solved, the rating."""
    return _status_page(_ticket_or_404(token))


@bp.post("/s/<token>/reply")
def reply(token):
    """The customer replies; a solved ticket reopens."""
    ticket = _ticket_or_404(token)
    form = CustomerReplyForm()
    if form.validate_on_submit():
        try:
            service.customer_reply(get_session(), service.CustomerReply(token, form.body.data), now=desk.now())
        except TicketError as exc:
            form.body.errors = list(form.body.errors) + [exc.fields.get("body", exc.message)]
        else:
            flash(_("Your reply was sent."))
            return _private(redirect(desk.status_url(ticket)))
    return _status_page(ticket, reply_form=form, code=400)


@bp.post("/s/<token>/rate")
def rate(token):
    """The customer rates the help (CSAT 1-5) and answers the NPS question (0-10)."""
    ticket = _ticket_or_404(token)
    form = RatingForm()
    if form.validate_on_submit():
        csat, nps = nps_value(form.csat.data), nps_value(form.nps.data)
        if ticket.csat is not None:
            csat = None
        if ticket.nps is not None:
            nps = None
        try:
            service.rate(get_session(), service.Rating(token, csat=csat, nps=nps), now=desk.now())
        except TicketError as exc:
            _apply_errors(form, exc.fields)
        else:
            flash(_("Thank you for your feedback."))
            return _private(redirect(desk.status_url(ticket)))
    return _status_page(ticket, rating_form=form, code=400)
