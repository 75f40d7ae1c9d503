from django.http import Http404


class DomainError(Exception):
    """A refused operation with a stable code that callers and tests can rely on."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class AccessRefused(Http404):
    """An object the requester may not see. Answered as a plain 404, never a 403 that would
    confirm the object exists (SEC-12); core.middleware.AuditRefusedAccess records it in the
    event log, aggregated (SEC-24). `kind` is the model's label, e.g. "matching.match"."""

    def __init__(self, kind: str, message: str = "Not found.") -> None:
        super().__init__(message)
        self.kind = kind
