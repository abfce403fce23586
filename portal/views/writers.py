"""The writers' area: dashboard, editor with live preview, review workflow, history, translations."""
from flask import (Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   url_for)
from sqlalchemy import or_, select
from wtforms import SelectChoice

from portal.content import MAX_BODY, ArticleFormatError, render_bounded
from portal.db import get_session
from portal.security import MAX_ID
from portal.i18n import gettext as _
from portal.models import STATUSES, Article
from portal.writing import dashboard as board
from portal.writing import editor, revisions, translations, workflow
from portal.writing.forms import EditorForm, StatusForm, VersionForm

bp = Blueprint("writers", __name__, url_prefix="/write")
ROLES = ("writer",)  # admins pass every role check


@bp.before_request
def _writers_only():
    """Every page here needs a writer (or an admin); JSON callers get JSON errors."""
    user = g.get("user")
    if user is None:
        if request.is_json:
            return jsonify(error="authentication required", fields={}), 401
        return redirect(url_for("auth.login", next=request.full_path))
    if user.role != "admin" and user.role not in ROLES:
        abort(403)
    return None


def _version(form):
    """The article version a form carries, or None when it is not one (digits, within MAX_ID)."""
    text = (form.version.data or "").strip()
    return int(text) if text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID else None


def _article(article_id):
    article = get_session().get(Article, article_id)
    if article is None:
        abort(404)
    return article


def _locales():
    return current_app.config["LOCALES"]


def _setup_choices(form, article=None, concept=None):
    """Fill the language and translation-source choices of the editor form."""
    session = get_session()
    form.locale.choices = list(_locales())
    candidates = []
    concept = concept or (article.concept if article else None)
    if concept:
        q = select(Article).where(Article.concept == concept)
        if article is not None:
            q = q.where(Article.id != article.id)
        candidates = session.scalars(q.order_by(Article.locale)).all()
    choices = {"": _("(not a translation)")}
    choices.update((a.slug, f"{a.locale.upper()}: {a.title}") for a in candidates)
    if form.source_slug.data and form.source_slug.data not in choices:
        choices[form.source_slug.data] = form.source_slug.data
    form.source_slug.choices = [SelectChoice(value, label) for value, label in choices.items()]


def _input(form):
    """Build the editor service's input from the submitted form."""
    return editor.ArticleInput(
        title=form.title.data or "", slug=form.slug.data or "", locale=form.locale.data or "",
        category=form.category.data or "", body=form.body.data or "",
        tags=editor.parse_tags(form.tags.data), concept=form.concept.data or "",
        summary=form.summary.data or "", note=form.note.data or "", source_slug=form.source_slug.data or "",
    )


def _form_data(inp, version=None, source_slug=""):
    return {"title": inp.title, "slug": inp.slug, "locale": inp.locale, "category": inp.category,
            "tags": ", ".join(inp.tags), "concept": inp.concept, "summary": inp.summary, "body": inp.body,
            "note": "", "version": str(version or ""), "source_slug": source_slug}


def _show_errors(form, exc):
    """Put the service's errors on the form fields they belong to."""
    for field, (message, values) in exc.errors.items():
        target = getattr(form, field, None) if field else None
        text = _(message, **values)
        if target is not None:
            target.errors = list(target.errors) + [text]
        else:
            form.form_errors.append(text)


def _side_article(session, form, article=None):
    """Pick the article shown next to the editor: ?compare=, else the translation's source."""
    slug = request.args.get("compare") or form.source_slug.data
    if not slug:
        return None
    other = session.scalar(select(Article).where(Article.slug == slug))
    return other if other is not None and (article is None or other.id != article.id) else None


def _editor_page(form, article=None, status=200, **extra):
    session = get_session()
    preview_html = extra.pop("preview_html", None)
    if preview_html is None and form.body.data and len(form.body.data) <= MAX_BODY:
        try:
            preview_html = render_bounded(form.body.data, PREVIEW_SECONDS)[0]
        except ArticleFormatError:
            preview_html = None
            form.body.errors = list(form.body.errors) + [_(editor.SLOW_BODY, seconds=f"{PREVIEW_SECONDS:g}")]
    side = _side_article(session, form, article)
    stale = translations.stale_of(session, article) if article is not None else None
    return render_template(
        "writers/editor.html", form=form, article=article, preview_html=preview_html, side=side,
        siblings=translations.siblings(session, article) if article is not None else [],
        stale=stale, stale_diff=_stale_diff(session, stale), **extra,
    ), status


def _stale_diff(session, stale):
    """Return the diff of the source since the translation last matched it, if known."""
    if stale is None:
        return None
    old = revisions.get(session, stale.source.id, stale.synced_revision)
    if old is None:
        return None
    return revisions.diff(revisions.as_text(old), revisions.as_text(stale.source))


def _suggest_slug(source, locale):
    prefix = f"{source.locale}-"
    base = source.slug[len(prefix):] if source.slug.startswith(prefix) else source.slug
    return f"{locale}-{base}"


@bp.get("/")
def dashboard():
    """The writers' home: my drafts, reviews, stale translations and what readers struggle with."""
    session = get_session()
    return render_template(
        "writers/dashboard.html",
        drafts=board.my_drafts(session, g.user),
        reviews=board.waiting_for_review(session),
        stale=board.stale_translations(session),
        not_helpful=board.most_not_helpful(session),
        gaps=board.content_gaps(session, current_app.config["EMBEDDING_MODEL"]),
    )


@bp.get("/articles")
def articles():
    """Every article in every status, filtered by status, language and words of the title."""
    session = get_session()
    q = select(Article)
    status, locale, text = request.args.get("status", ""), request.args.get("locale", ""), request.args.get("q", "")
    if status in STATUSES:
        q = q.where(Article.status == status)
    if locale in _locales():
        q = q.where(Article.locale == locale)
    if text.strip():
        like = f"%{text.strip()[:100]}%"
        q = q.where(or_(Article.title.ilike(like), Article.slug.ilike(like)))
    rows = session.scalars(q.order_by(Article.updated_at.desc()).limit(500)).all()
    return render_template("writers/articles.html", articles=rows, statuses=STATUSES,
                           status=status, locale=locale, q=text)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Write a new article: ?title= prefills it, ?translate_from=<slug>&locale=xx translates one."""
    session = get_session()
    if request.method == "GET":
        form = EditorForm(formdata=None, data=_new_defaults(session))
        _setup_choices(form, concept=form.concept.data)
        return _editor_page(form)
    form = EditorForm()
    _setup_choices(form, concept=form.concept.data)
    if not form.validate_on_submit():
        return _editor_page(form, status=400)
    if request.form.get("action") == "preview":
        return _editor_page(form)
    try:
        article = editor.create(session, _input(form), g.user, _locales())
    except editor.EditorError as exc:
        _show_errors(form, exc)
        return _editor_page(form, status=400)
    flash(_("Draft saved."))
    return redirect(url_for("writers.article", article_id=article.id))


def _new_defaults(session):
    """Prefill a new article from the query string (a content gap or a translation)."""
    locale = request.args.get("locale")
    source_slug = request.args.get("translate_from")
    if source_slug:
        source = session.scalar(select(Article).where(Article.slug == source_slug))
        if source is None:
            abort(404)
        locale = locale if locale in _locales() else next((l for l in _locales() if l != source.locale), "")
        inp = editor.as_input(source)
        return _form_data(editor.ArticleInput(
            title=inp.title, slug=_suggest_slug(source, locale), locale=locale, category=inp.category,
            body=inp.body, tags=inp.tags, concept=source.concept or source.slug, summary=inp.summary,
        ), source_slug=source.slug)
    locale = locale if locale in _locales() else (g.get("locale") if g.get("locale") in _locales() else _locales()[0])
    return {"title": request.args.get("title", "")[:300], "locale": locale, "category": "general"}


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
def edit(article_id):
    """Edit an article; a save against an older version shows the other writer's change."""
    session = get_session()
    article = _article(article_id)
    if request.method == "GET":
        link = translations.link_of(session, article)
        source_slug = session.get(Article, link.source_id).slug if link else ""
        proposal = revisions.pending(session, article)  # a pending change: edit that, not the live text
        inp = editor.proposal_input(article, proposal) if proposal is not None else editor.as_input(article)
        form = EditorForm(formdata=None, data=_form_data(inp, article.version, source_slug))
        _setup_choices(form, article)
        return _editor_page(form, article)
    form = EditorForm()
    _setup_choices(form, article, concept=form.concept.data)
    if not form.validate_on_submit() or _version(form) is None:
        return _editor_page(form, article, status=400)
    if request.form.get("action") == "preview":
        return _editor_page(form, article)
    inp = _input(form)
    try:
        changed = editor.update(session, article, inp, g.user, _version(form), _locales())
    except editor.EditorError as exc:
        _show_errors(form, exc)
        return _editor_page(form, article, status=400)
    except editor.ConflictError as exc:
        return _conflict_page(form, article, inp, exc)
    flash(_saved(changed) or _("Saved."))
    return redirect(url_for("writers.article", article_id=article.id))


def _saved(outcome):
    """The message for editor.update's or restore's "proposed" and "" outcomes (None for "saved")."""
    if outcome == "proposed":
        return _("Your change waits for approval by another writer; the published text stays as it is.")
    return None if outcome else _("Nothing changed.")


def _conflict_page(form, article, inp, exc):
    """Keep what this writer typed, show what the other writer changed, and let them save again."""
    current_text = revisions.as_text(exc.current) if exc.current else revisions.as_text(article)
    theirs = revisions.diff(revisions.as_text(exc.base), current_text) if exc.base else None
    yours = revisions.diff(current_text, revisions.as_text(editor.data_from_input(inp, article.status)))
    # The form now carries the current version: saving again is a deliberate overwrite.
    form.version.data = str(article.version)
    return _editor_page(form, article, status=409, conflict=exc, theirs=theirs, yours=yours)


@bp.post("/preview")
def preview():
    """Render markdown with the portal's sanitizing renderer, for the editor's live preview."""
    payload = request.get_json(silent=True)
    body = payload.get("body") if isinstance(payload, dict) else None
    if not isinstance(body, str):
        return jsonify(error="send a JSON object with a string 'body'", fields={"body": "required"}), 400
    if len(body) > MAX_BODY:
        return jsonify(error="the body is too long", fields={"body": f"at most {MAX_BODY} characters"}), 400
    try:
        html, toc = render_bounded(body, PREVIEW_SECONDS)
    except ArticleFormatError as exc:
        return jsonify(error=str(exc), fields={"body": f"takes more than {PREVIEW_SECONDS:g} s to render"}), 422
    return jsonify(html=html, toc=toc)


PREVIEW_SECONDS = 2.0  # the live preview asks again as the writer types: a short bound


@bp.get("/<int:article_id>")
def article(article_id):
    """An article as writers see it: status, workflow buttons, translations and a preview."""
    session = get_session()
    art = _article(article_id)
    stale = translations.stale_of(session, art)
    siblings = translations.siblings(session, art)
    stale_ids = {s.id for s in siblings if translations.is_stale(session, s)}
    missing = [l for l in _locales() if l != art.locale and l not in {s.locale for s in siblings}]
    proposal = revisions.pending(session, art)
    proposal_diff = (revisions.diff(revisions.as_text(art), revisions.as_text(proposal))
                     if proposal is not None else None)
    return render_template(
        "writers/article.html", article=art, actions=workflow.allowed_actions(session, art, g.user),
        proposal=proposal, proposal_diff=proposal_diff,
        form=StatusForm(formdata=None, data={"version": str(art.version)}), stale=stale,
        stale_diff=_stale_diff(session, stale), siblings=siblings, stale_ids=stale_ids,
        missing_locales=missing, link=translations.link_of(session, art),
        last=revisions.latest(session, art.id),
    )


@bp.post("/<int:article_id>/status")
def change_status(article_id):
    """Apply one workflow step (submit, publish, reject, archive, reopen)."""
    session = get_session()
    art = _article(article_id)
    form = StatusForm()
    if not form.validate_on_submit() or _version(form) is None:
        abort(400)
    action = request.form.get("action", "")
    try:
        workflow.apply(session, art, action, g.user, _version(form), form.note.data or "")
    except workflow.WorkflowError as exc:
        flash(_("Not done: {reason}.", reason=_(exc.message, **exc.values)))
    except editor.ConflictError:
        flash(_("The article changed since you opened it. Look at the latest version and try again."))
    else:
        flash(_("Done: {action}.", action=_(action)))
    return redirect(url_for("writers.article", article_id=art.id))


@bp.get("/<int:article_id>/history")
def history(article_id):
    """Every revision of an article and a readable diff between any two (?a=&b=)."""
    session = get_session()
    art = _article(article_id)
    revs = revisions.history(session, art.id)
    by_number = {r.number: r for r in revs}
    newest = revs[0].number if revs else 0
    a = request.args.get("a", type=int, default=revs[1].number if len(revs) > 1 else newest)
    b = request.args.get("b", type=int, default=newest)
    old, new_ = by_number.get(a), by_number.get(b)
    lines = revisions.diff(revisions.as_text(old), revisions.as_text(new_)) if old and new_ else None
    return render_template("writers/history.html", article=art, revisions=revs, a=a, b=b, old=old,
                           new=new_, lines=lines, form=VersionForm(formdata=None, data={"version": str(art.version)}))


@bp.get("/<int:article_id>/revisions/<int:number>")
def revision(article_id, number):
    """One revision as it read then, with its changes against the revision before it."""
    session = get_session()
    art = _article(article_id)
    rev = revisions.get(session, art.id, number)
    if rev is None:
        abort(404)
    previous = revisions.get(session, art.id, number - 1)
    lines = revisions.diff(revisions.as_text(previous), revisions.as_text(rev)) if previous else None
    return render_template("writers/revision.html", article=art, rev=rev, html=_revision_html(rev.body),
                           lines=lines, form=VersionForm(formdata=None, data={"version": str(art.version)}))


def _revision_html(body):
    """An old revision as it read, or its markdown as text when it will not render in time."""
    from markupsafe import escape

    try:
        return render_bounded(body, PREVIEW_SECONDS)[0]
    except ArticleFormatError:
        return f"<pre>{escape(body)}</pre>"


@bp.post("/<int:article_id>/revisions/<int:number>/restore")
def restore(article_id, number):
    """Make an old revision the current text again, as a new revision."""
    session = get_session()
    art = _article(article_id)
    form = VersionForm()
    if not form.validate_on_submit() or _version(form) is None:
        abort(400)
    try:
        changed = editor.restore(session, art, number, g.user, _version(form))
    except LookupError:
        abort(404)
    except editor.ConflictError:
        flash(_("The article changed since you opened it. Look at the latest version and try again."))
        return redirect(url_for("writers.history", article_id=art.id))
    if changed == "proposed":
        flash(_saved(changed))
    else:
        flash(_("Revision {number} restored as a new revision.", number=number) if changed
              else _("That revision is the same as the current text."))
    return redirect(url_for("writers.history", article_id=art.id))
