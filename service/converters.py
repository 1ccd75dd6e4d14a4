"""URL converters stricter than werkzeug's defaults."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter


class AsciiIntegerConverter(IntegerConverter):
    """Werkzeug's ``int`` matches ``\\d+``, which in Python takes any Unicode digit, so
    ``/comments/１`` (a fullwidth one) was comment 1. Ids are ASCII digits only."""

    regex = r"[0-9]+"
