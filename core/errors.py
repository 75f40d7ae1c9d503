class DomainError(Exception):
    """A refused operation with a stable code that callers and tests can rely on."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
