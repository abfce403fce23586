"""The review workflow: draft → review → published → archived, and who may move an article.

A published article changes only through review too: a writer's edit (or restore) becomes a
proposal, a pending revision, while the published text stays live (portal.writing.editor);
someone else with a writing role approves it ("publish") or sends it back ("reject"). Only the
roles of PUBLISH_DIRECTLY change live text at once, and publish a draft without review."""
from dataclasses import replace

from portal import kb
from portal.writing import editor, revisions, translations
from portal.writing.indexing import reindex

# action: (statuses it starts from, status it leads to, revision note)
TRANSITIONS = {
    "submit": ({"draft"}, "review", "submitted for review"),
    "publish": ({"review"}, "published", "approved and published"),
    "reject": ({"review"}, "draft", "sent back to draft"),
    "archive": ({"draft", "review", "published"}, "archived", "archived"),
    "reopen": ({"archived"}, "draft", "reopened as a draft"),
}
WRITING_ROLES = ("writer", "admin")
# Admins hold every right anyway (accounts, roles); a small team may have no second writer.
PUBLISH_DIRECTLY = ("admin",)


def publishes_directly(user):
    """True when this user's edits of published articles go live without review."""
    return user is not None and user.role in PUBLISH_DIRECTLY


class WorkflowError(ValueError):
    """A status change that is not allowed; message and values say why (for translation)."""

    def __init__(self, message, values=None):
        self.message, self.values = message, dict(values or {})
        super().__init__(message.format(**self.values))


def _why_not(session, article, action, user):
    """Return (reason, values) why this user may not apply this action now, or None."""
    if action not in TRANSITIONS:
        return "unknown action", {}
    if user is None or user.role not in WRITING_ROLES:
        return "only writers and admins change an article's status", {}
    starts, _target, _note = TRANSITIONS[action]
    if action == "publish" and publishes_directly(user):
        starts = starts | {"draft"}
    # A published article with a pending change is in review, for that change.
    status = "review" if revisions.pending(session, article) is not None else article.status
    if status not in starts:
        return "a {status} article cannot be given the action '{action}'", {"status": status, "action": action}
    if action == "publish" and user.role != "admin":
        if user.id in revisions.authors_since_published(session, article.id):
            return "another writer or an admin must approve your own changes", {}
    return None


def allowed_actions(session, article, user):
    """Return the actions this user may apply to the article now, in workflow order."""
    return [a for a in TRANSITIONS if _why_not(session, article, a, user) is None]


def apply(session, article, action, user, expected_version, note=""):
    """Move the article through the workflow; raise WorkflowError or editor.ConflictError."""
    reason = _why_not(session, article, action, user)
    if reason:
        raise WorkflowError(*reason)
    proposal = revisions.pending(session, article)
    if proposal is not None and action in ("publish", "reject"):
        return _decide(session, article, proposal, action == "publish", user, expected_version, note)
    _starts, target, default_note = TRANSITIONS[action]
    data = replace(kb.to_data(article), status=target)
    note = f"{default_note}: {note}" if note else default_note
    was_public = editor.save_data(session, article, data, user, expected_version, note)
    session.commit()
    reindex(article, was_public)
    return article


def _decide(session, article, proposal, approve, user, expected_version, note):
    """Approve a published article's pending change (it goes live) or turn it down (the live
    text stays, recorded again so that the change is no longer pending)."""
    if approve:
        data = replace(revisions.to_article_data(proposal), slug=article.slug, locale=article.locale,
                       status="published")
        default = f"approved the change of {proposal.author_label}"
    else:
        data, default = kb.to_data(article), f"turned down the change of {proposal.author_label}"
    editor.save_data(session, article, data, user, expected_version, f"{default}: {note}" if note else default)
    if approve:
        translations.mark_synced(session, article)
    session.commit()
    if approve:
        reindex(article, True)
    return article
