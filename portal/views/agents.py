"""The agents' side: the queue, the ticket page and its actions, presence, canned responses."""
from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import SelectChoice

from portal import tickets as desk
from portal.auth import role_required
from portal.content import ArticleFormatError
from portal.security import MAX_ID
from portal.db import get_session
from portal.i18n import gettext as _
from portal.models import Article
from portal.ticket_forms import (CATEGORY_LABELS, AgentReplyForm, CannedForm, EscalateForm, TicketUpdateForm,
                                 VersionForm)
from ticketing import canned, presence, queue, routing, service, sla
from ticketing.errors import Conflict, TicketError, TicketNotFound
from ticketing.models import CATEGORIES, GROUPS, PRIORITIES, STATUSES, CannedResponse

bp = Blueprint("agents", __name__, url_prefix="/agent")


@bp.before_request
@role_required("agent", "lead")
def _staff_only():
    """Every page here needs an agent, a lead or an admin."""


@bp.get("/", endpoint="queue")
def queue_page():
    """The queue with filters, sorts and the counts per view."""
    session, now = get_session(), desk.now()
    args = request.args
    filters = queue.Filters(view=args.get("view", "active"), status=args.get("status", ""),
                            priority=args.get("priority", ""), category=args.get("category", ""),
                            group=args.get("group", ""), assignee=args.get("assignee", ""), q=args.get("q", ""),
                            sort=args.get("sort", "due"), page=args.get("page", 1, type=int)).cleaned()
    rows, total = queue.search(session, filters, g.user.id, now)
    # The page links carry the filters only: any other query key would reach url_for as an argument.
    page_args = {k: v for k, v in args.items() if k in QUEUE_ARGS}
    return render_template(
        "agents/queue.html", page_args=page_args,
        tickets=rows, total=total, filters=filters, counts=queue.view_counts(session, g.user.id, now),
        flags={t.id: sla.ticket_flags(t, now) for t in rows}, names=desk.user_names(session, [t.assignee_id for t in rows]),
        agents=desk.agents(session), statuses=STATUSES, priorities=PRIORITIES, categories=CATEGORIES, groups=GROUPS,
        category_labels=CATEGORY_LABELS, page_size=queue.PAGE_SIZE, views=queue.VIEWS, sorts=queue.SORTS)


QUEUE_ARGS = ("view", "status", "priority", "category", "group", "assignee", "q", "sort")


def _id(text):
    """An id from a form field, or None when it is not one (digits only, within MAX_ID)."""
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID else None


def _ticket(ticket_id):
    try:
        return service.get_ticket(get_session(), ticket_id)
    except TicketNotFound:
        abort(404)


def _suggested_articles(session, ticket, limit=6):
    """Articles worth linking: those the customer read, then titles sharing the subject's words."""
    read = [a.get("slug") for a in (ticket.context or {}).get("articles", []) if a.get("slug")]
    found = list(session.scalars(select(Article).where(Article.slug.in_(read), Article.status == "published")))
    words = sorted({w for w in routing.fold(ticket.subject).split() if len(w) > 3}, key=len, reverse=True)[:4]
    if words:
        clause = or_(*[Article.title.ilike(f"%{w}%") for w in words])
        query = select(Article).where(Article.status == "published", clause).order_by(
            (Article.locale != ticket.locale), Article.views.desc()).limit(limit)
        found += [a for a in session.scalars(query) if a not in found]
    return found[:limit]


def _canned_for(session, ticket):
    """The canned responses with their placeholders filled in for this ticket."""
    def link(slug):
        art = session.scalar(select(Article).where(Article.slug == slug, Article.status == "published"))
        return f"[{art.title}]({desk.article_url(slug)})" if art else None

    return [{"id": c.id, "title": c.title, "text": canned.fill(c.body, ticket, desk.actor().name, link)}
            for c in canned.listing(session, ticket.locale)]


def _timeline(ticket):
    """Messages and audit events in one list, oldest first."""
    items = [("message", m.created_at, m) for m in ticket.messages]
    items += [("event", e.created_at, e) for e in ticket.events if e.kind != "created"]
    return sorted(items, key=lambda i: (i[1], 0 if i[0] == "message" else 1))


def _page(ticket, reply_form=None, conflict=None, code=200, update_form=None, escalate_form=None):
    """Render the ticket page; after a conflict every form carries the current version."""
    session, now = get_session(), desk.now()
    version = ticket.version
    reply_form = reply_form or AgentReplyForm(formdata=None)
    update_form = update_form or TicketUpdateForm(formdata=None, status=ticket.status, priority=ticket.priority,
                                                  group=ticket.group, assignee=str(ticket.assignee_id or ""))
    escalate_form = escalate_form or EscalateForm(formdata=None, group=routing.next_tier(ticket.group) or "L3")
    people = desk.agents(session)
    update_form.assignee.choices = [SelectChoice("", _("nobody"))] + [
        SelectChoice(str(u.id), u.name or u.email) for u in people]
    for form in (reply_form, update_form, escalate_form):
        # raw_data too: a field renders what was submitted, and after a conflict that is stale.
        form.version.data, form.version.raw_data = version, [str(version)]
    names = desk.user_names(session, [ticket.assignee_id])
    return render_template(
        "agents/ticket.html", ticket=ticket, timeline=_timeline(ticket), flags=sla.ticket_flags(ticket, now),
        reply_form=reply_form, update_form=update_form, escalate_form=escalate_form,
        claim_form=VersionForm(formdata=None, version=version), conflict=conflict,
        assignee_name=names.get(ticket.assignee_id), category_labels=CATEGORY_LABELS,
        canned=_canned_for(session, ticket), articles=_suggested_articles(session, ticket),
        viewers=presence.others(session, ticket.id, g.user.id, now), describe=service.describe_event,
        next_tier=routing.next_tier(ticket.group), article_url=desk.article_url), code


@bp.get("/tickets/<int:ticket_id>")
def ticket_page(ticket_id):
    """The ticket: thread, "already tried", SLA, actions; this agent is now viewing it."""
    ticket = _ticket(ticket_id)
    presence.touch(get_session(), ticket.id, g.user.id, desk.actor().name, desk.now())
    return _page(ticket)


def _conflict_page(ticket_id, exc, **forms):
    """Show the conflict: what changed, by whom; the agent's text stays in the box."""
    ticket = service.get_ticket(get_session(), ticket_id)
    get_session().refresh(ticket)
    return _page(ticket, conflict=exc, code=409, **forms)


@bp.post("/tickets/<int:ticket_id>/reply")
def reply(ticket_id):
    """Send a public reply or add an internal note (optionally changing the status)."""
    ticket = _ticket(ticket_id)
    form = AgentReplyForm()
    if not form.validate_on_submit():
        return _page(ticket, reply_form=form, code=400)
    internal = form.internal.data == "1"
    try:  # rendered once, now: the status page shows the stored HTML
        html = desk.render_reply(form.body.data.strip())
    except ArticleFormatError:
        form.body.errors = list(form.body.errors) + [
            _("This message takes too long to display; simplify its links and emphasis.")]
        return _page(ticket, reply_form=form, code=400)
    message = service.AgentMessage(
        ticket_id=ticket.id, actor=desk.actor(), body=form.body.data, expected_version=form.version.data,
        internal=internal, status=form.status.data or None, html=html,
        articles=() if internal else tuple(desk.articles_in(form.body.data)))
    try:
        service.agent_message(get_session(), message, now=desk.now())
    except Conflict as exc:
        return _conflict_page(ticket_id, exc, reply_form=form)
    except TicketError as exc:
        form.body.errors = list(form.body.errors) + [exc.message]
        return _page(_ticket(ticket_id), reply_form=form, code=400)
    flash(_("Internal note added.") if internal else _("Reply sent."))
    return redirect(url_for(".ticket_page", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/claim")
def claim(ticket_id):
    """Take the ticket (optimistic locking: it must not have changed since the page was shown)."""
    _ticket(ticket_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.claim(get_session(), ticket_id, desk.actor(), form.version.data, now=desk.now())
    except Conflict as exc:
        return _conflict_page(ticket_id, exc)
    except TicketError as exc:
        flash(exc.message)
    else:
        flash(_("The ticket is yours."))
    return redirect(url_for(".ticket_page", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/update")
def update(ticket_id):
    """Change status, priority, group or assignee."""
    ticket = _ticket(ticket_id)
    form = TicketUpdateForm()
    form.assignee.choices = [SelectChoice("", "")] + [SelectChoice(str(u.id), u.name)
                                                      for u in desk.agents(get_session())]
    if not form.validate_on_submit():
        return _page(ticket, update_form=form, code=400)
    assignee = _id(form.assignee.data)
    names = desk.user_names(get_session(), [assignee])
    change = service.TicketChange(ticket_id=ticket.id, actor=desk.actor(), expected_version=form.version.data,
                                  status=form.status.data, priority=form.priority.data, group=form.group.data,
                                  assignee_id=assignee)
    try:
        service.change(get_session(), change, desk.settings(), now=desk.now(), assignee_name=names.get(assignee, ""))
    except Conflict as exc:
        return _conflict_page(ticket_id, exc, update_form=form)
    except TicketError as exc:
        flash(exc.message)
        return _page(_ticket(ticket_id), update_form=form, code=400)
    flash(_("Ticket updated."))
    return redirect(url_for(".ticket_page", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/escalate")
def escalate(ticket_id):
    """Move the ticket up a tier with a reason."""
    ticket = _ticket(ticket_id)
    form = EscalateForm()
    if not form.validate_on_submit():
        return _page(ticket, escalate_form=form, code=400)
    esc = service.Escalation(ticket_id=ticket.id, actor=desk.actor(), expected_version=form.version.data,
                             reason=form.reason.data, group=form.group.data)
    try:
        service.escalate(get_session(), esc, now=desk.now())
    except Conflict as exc:
        return _conflict_page(ticket_id, exc, escalate_form=form)
    except TicketError as exc:
        form.reason.errors = list(form.reason.errors) + [exc.message]
        return _page(_ticket(ticket_id), escalate_form=form, code=400)
    flash(_("Ticket escalated to {group}.", group=esc.group))
    return redirect(url_for(".ticket_page", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/presence")
def presence_ping(ticket_id):
    """Polled by the ticket page: note this agent as viewing; answer who else is, and the version."""
    ticket = _ticket(ticket_id)
    session, now = get_session(), desk.now()
    payload = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(payload, dict):
        return jsonify(error="send a JSON object such as {\"composing\": true}",
                       fields={"body": "expected a JSON object"}), 400
    if payload.get("leaving"):
        presence.leave(session, ticket.id, g.user.id)
        return jsonify(ok=True)
    presence.touch(session, ticket.id, g.user.id, desk.actor().name, now, composing=bool(payload.get("composing")))
    return jsonify(viewers=presence.others(session, ticket.id, g.user.id, now), version=ticket.version,
                   status=ticket.status)


# ---------------------------------------------------------------- canned responses (leads)

def _lead_only():
    if g.user.role not in ("lead", "admin"):
        abort(403)


@bp.get("/canned")
def canned_list():
    """The canned responses; leads and admins can edit them."""
    return render_template("agents/canned.html", items=canned.listing(get_session()),
                           can_edit=g.user.role in ("lead", "admin"))


@bp.route("/canned/new", methods=["GET", "POST"], defaults={"canned_id": None})
@bp.route("/canned/<int:canned_id>/edit", methods=["GET", "POST"])
def canned_edit(canned_id):
    """Create or edit a canned response (leads and admins)."""
    _lead_only()
    session = get_session()
    row = session.get(CannedResponse, canned_id) if canned_id else None
    if canned_id and row is None:
        abort(404)
    form = CannedForm(obj=row)
    if form.validate_on_submit():
        data = canned.CannedData(form.title.data, form.body.data, form.locale.data)
        try:
            canned.save(session, data, g.user.id, canned_id)
        except TicketError as exc:
            for name, message in exc.fields.items():
                getattr(form, name).errors = [message]
        else:
            flash(_("Canned response saved."))
            return redirect(url_for(".canned_list"))
    return render_template("agents/canned_form.html", form=form, row=row), 400 if form.errors else 200


@bp.post("/canned/<int:canned_id>/delete")
def canned_delete(canned_id):
    """Delete a canned response (leads and admins)."""
    _lead_only()
    if not FlaskForm().validate_on_submit():  # a bare form: only its CSRF token is checked
        abort(400)
    try:
        canned.remove(get_session(), canned_id)
    except TicketNotFound:
        abort(404)
    flash(_("Canned response deleted."))
    return redirect(url_for(".canned_list"))
