"""One error hierarchy for the whole package; each surface translates it once.

The CLI prints ``error: <message>`` and exits non-zero, the service renders
``application/problem+json`` and the MkDocs plugin raises ``PluginError``.
"""

from __future__ import annotations


class TrackerError(Exception):
    """An error a user can act on: one line, naming the file or commit and what to do."""

    status: int = 400
    code: str = "tracker_error"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class RepositoryError(TrackerError):
    """The git repository cannot be read as a policy history (not a repo, empty, shallow…)."""

    code = "repository_error"


class SourceError(TrackerError):
    """A policy source file is invalid (front matter, encoding, duplicate slug…)."""

    code = "invalid_source"


class DeclarationError(TrackerError):
    """A commit's Policy-* trailers are invalid or conflict."""

    code = "invalid_declaration"


class NotFound(TrackerError):
    status = 404
    code = "not_found"


class Conflict(TrackerError):
    status = 409
    code = "conflict"


class InvalidInput(TrackerError):
    status = 422
    code = "invalid_input"


# Refusals of a request to the service (tracker.service.http): its key, its scope, its body.
class Unauthorized(TrackerError):
    status = 401
    code = "unauthorized"


class Forbidden(TrackerError):
    status = 403
    code = "forbidden"


class Malformed(TrackerError):
    status = 400
    code = "malformed_json"


class TooLarge(TrackerError):
    status = 413
    code = "too_large"


class StaleCatalog(TrackerError):
    """Rows read in a request name a version or policy newer than the cached catalog.

    Raised while resolving a read against the catalog; the service reloads the catalog
    and answers again, so a client sees it only if the catalog keeps moving under it.
    """

    status = 503
    code = "catalog_changed"
