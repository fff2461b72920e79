"""One exception tree for the whole project.

::

    SafeguardingError
     ├── InputError            bad input from a caller (malformed JSONL/XML/event); 4xx, CLI exit 2
     │    ├── EventError       one event is invalid; carries the event id
     │    ├── MalformedJSON    an HTTP body that is not JSON (400)
     │    └── PayloadTooLarge  an HTTP body over the size limit (413)
     ├── ConfigError           invalid settings; stops start-up
     │    └── PolicyError      invalid policy file; stops start-up
     ├── ModelError            model artifact missing or unusable
     │    └── ArtifactIntegrityError   sha256 mismatch: the artifact was altered
     ├── NotFoundError         a resource does not exist (404)
     ├── PermissionDenied      the actor may not do this (403)
     │    └── AuthenticationRequired   no or unknown credentials (401)
     ├── ConflictError         state conflict, e.g. a duplicate with different content (409)
     └── RateLimited           too many requests for one API key (429)

The service maps these to HTTP in exactly one module; the CLI maps them to exit codes in ``cli``.
"""

from __future__ import annotations


class SafeguardingError(Exception):
    """Base of every error raised on purpose by Safeguarding."""


class InputError(SafeguardingError):
    """Input that cannot be used. ``where`` names the place (``file.jsonl:12``), ``reason`` says why."""

    def __init__(self, reason: str, *, where: str | None = None) -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


class EventError(InputError):
    def __init__(self, reason: str, *, event_id: str | None = None, where: str | None = None) -> None:
        self.event_id = event_id
        label = f"event {event_id!r}" if event_id else None
        super().__init__(reason, where=where or label)


class ConfigError(SafeguardingError):
    """Invalid configuration. Fail closed: the process must not start with it."""


class PolicyError(ConfigError):
    def __init__(self, problems: list[str], *, path: str | None = None) -> None:
        self.problems = problems
        self.path = path
        head = f"invalid policy{f' {path}' if path else ''}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in problems))


class ModelError(SafeguardingError):
    """A model artifact is missing, from an incompatible version, or unusable."""


class ArtifactIntegrityError(ModelError):
    """The artifact's bytes do not match the sha256 it was shipped with."""


class NotFoundError(SafeguardingError):
    pass


class PermissionDenied(SafeguardingError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ConflictError(SafeguardingError):
    pass


class MalformedJSON(InputError):
    """The request body is not valid JSON."""


class PayloadTooLarge(InputError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body larger than {limit} bytes")


class AuthenticationRequired(PermissionDenied):
    """No credentials, or credentials the service does not know (expired, revoked, wrong)."""


class RateLimited(SafeguardingError):
    def __init__(self, retry_after: float, limit: float) -> None:
        self.retry_after = retry_after
        self.limit = limit
        super().__init__(f"rate limit of {limit:g} requests per second for this API key exceeded")
