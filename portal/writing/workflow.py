"""The review workflow: draft → review → published → archived, and who may move an article."""
from dataclasses import replace

from portal import kb
from portal.writing import editor, revisions
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
    if action == "publish" and user.role == "admin":
        # An admin may publish a draft directly: small teams have no second writer.
        starts = starts | {"draft"}
    if article.status not in starts:
        return "a {status} article cannot be given the action '{action}'", {"status": article.status, "action": action}
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
    _starts, target, default_note = TRANSITIONS[action]
    data = replace(kb.to_data(article), status=target)
    note = f"{default_note}: {note}" if note else default_note
    was_public = editor.save_data(session, article, data, user, expected_version, note)
    session.commit()
    reindex(article, was_public)
    return article
