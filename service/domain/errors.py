"""The one error the domain raises: a request its rules refuse.

Free of Flask and of the rest of the service; errors.py turns it into problem+json.
"""

from __future__ import annotations

from typing import Any


class RuleError(Exception):
    """A request the rules refuse: ``status`` is the HTTP status a view should answer."""

    def __init__(
        self, status: int, detail: str, *, kind: str, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.field = field
        self.extra = extra
