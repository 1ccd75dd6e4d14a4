"""POST /preview: a draft rendered exactly as posting would render it, stored nowhere."""

from __future__ import annotations

from typing import Any

from ..domain import bodies
from ..http import json_body, read_limit, rules
from ..problems import Problem
from ..schemas import BodySchema
from .blueprint import bp

PREVIEW = BodySchema()


@bp.post("/preview")
@read_limit()
def preview_body() -> dict[str, Any]:
    """The draft's sanitised HTML and how many links it has (the link hold counts them)."""
    body = json_body(PREVIEW)["body"]
    try:
        clean = bodies.clean_body(body, max_length=rules().max_body)
    except bodies.BodyError as exc:
        raise Problem(
            422,
            str(exc),
            type_="invalid-body",
            title="Invalid request",
            errors={"body": [str(exc)]},
        ) from None
    html = bodies.render(clean, rules().ticker_url)
    return {"body_html": html, "links": bodies.count_links(html)}
