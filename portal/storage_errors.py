"""Disk full, read-only or missing storage: a clear 503 and one clear log line, not a bare 500.

The database and the search index live on disk; when the disk fills up or a folder cannot be
written, the request fails, but the customer should read what happened and the administrator
should find the cause in the log without reading a traceback first."""
import errno

from flask import current_app, jsonify, render_template, request
from sqlalchemy.exc import OperationalError

STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                  errno.EISDIR, errno.EIO, errno.ENOENT}
# What SQLite says when its file cannot be written (PostgreSQL reports a full disk the same way).
DB_STORAGE_MESSAGES = ("database or disk is full", "readonly database", "disk i/o error",
                       "could not extend file", "no space left on device", "unable to open database file")


def init_app(app):
    """Answer storage failures with a clear 503 page or JSON error."""
    from search.base import SearchError

    app.register_error_handler(OSError, _answer)
    app.register_error_handler(OperationalError, _answer)
    app.register_error_handler(SearchError, _search_unavailable)


def storage_problem(exc):
    """Return a short description when exc is a storage failure, else None."""
    if isinstance(exc, OperationalError):
        text = str(getattr(exc, "orig", exc)).lower()
        return next((m for m in DB_STORAGE_MESSAGES if m in text), None)
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        return f"{errno.errorcode.get(exc.errno, exc.errno)}: {exc.strerror}"
    return None


def _search_unavailable(exc):
    current_app.logger.error("search unavailable on %s %s: %s", request.method, request.path, exc, exc_info=exc)
    return _respond(503, "Search is not available right now; please try again in a minute. "
                         "You can still browse the articles by category.", "errors/error.html")


def _answer(exc):
    problem = storage_problem(exc)
    if problem is None:  # not about storage: the usual 500
        current_app.logger.exception("unhandled error on %s", request.path)
        return _respond(500, "internal error; it has been logged", "errors/500.html")
    where = getattr(exc, "filename", None) or "the database"
    current_app.logger.error("storage failure (%s) on %s %s, at %s", problem, request.method, request.path,
                             where, exc_info=exc)
    message = ("The help center cannot write to its storage right now, so this request did not complete. "
               "Articles and tickets already saved are safe. Please try again later.")
    return _respond(503, message, "errors/error.html")


def _respond(code, message, template):
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=message, fields={})
    else:
        from werkzeug.exceptions import InternalServerError, ServiceUnavailable

        error = (ServiceUnavailable if code == 503 else InternalServerError)(description=message)
        response = current_app.make_response(render_template(template, error=error))
    response.status_code = code
    if code == 503:
        response.headers["Retry-After"] = "120"
    return response
