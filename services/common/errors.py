"""Domain errors with a gRPC status code name and a machine-readable reason.

Plain Python (no grpc import) so domain modules can raise them; the server
turns them into a google.rpc.Status with an ErrorInfo (see server.py).
"""

from __future__ import annotations


class SscardError(Exception):
    code = "INTERNAL"

    def __init__(self, reason: str, message: str = "", **metadata: str) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.message = message or reason
        self.metadata = {k: str(v) for k, v in metadata.items()}


class InvalidArgument(SscardError):
    code = "INVALID_ARGUMENT"


class NotFound(SscardError):
    code = "NOT_FOUND"


class AlreadyExists(SscardError):
    code = "ALREADY_EXISTS"


class FailedPrecondition(SscardError):
    code = "FAILED_PRECONDITION"


class PermissionDenied(SscardError):
    code = "PERMISSION_DENIED"


class Unauthenticated(SscardError):
    code = "UNAUTHENTICATED"


class Unavailable(SscardError):
    code = "UNAVAILABLE"


class ResourceExhausted(SscardError):
    code = "RESOURCE_EXHAUSTED"


def require(value: object, field: str) -> None:
    """Missing required fields are INVALID_ARGUMENT / FIELD_REQUIRED."""
    if value in (None, "", 0) or (hasattr(value, "__len__") and len(value) == 0):  # type: ignore[arg-type]
        raise InvalidArgument("FIELD_REQUIRED", f"{field} is required", field=field)


class CommitThenRaise(Exception):
    """Raised inside a unit of work: commit what was written, then fail the call with `error`.

    For refusals that must leave a trace: a wrong PIN is counted, a settlement
    attempt on a lost card is recorded as a fraud signal.
    """

    def __init__(self, error: SscardError) -> None:
        super().__init__(error.message)
        self.error = error
