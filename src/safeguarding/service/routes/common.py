"""What every route shares: the documented error responses (all ``application/problem+json``)."""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("malformed JSON"),
    401: _problem("no or unknown credentials"),
    403: _problem("not allowed (the reason says why), or a missing CSRF token"),
    404: _problem("no such resource"),
    413: _problem("body larger than the limit"),
    422: _problem("invalid input, with the reason"),
    429: _problem("over the API key's rate limit (see Retry-After)"),
}
