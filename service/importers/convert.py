"""Source bodies -> (Markdown, sanitised HTML, fingerprint): the CPU-heavy part of an import.

Kept apart from writer.py so the worker processes the writer starts (``--jobs``) import only
this, the renderer and markdownify: not SQLAlchemy, the models or the rest of the domain.
A worker then holds about 37 MB resident instead of 66 MB (docs/performance.md, imports).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from ..domain import bodies


@lru_cache(maxsize=1)
def _converter() -> Any:
    from markdownify import MarkdownConverter  # lazy: only HTML sources need it

    class Converter(MarkdownConverter):
        def convert_img(self, el: Any, text: str, parent_tags: Any) -> str:
            # Our comments show no images (third-party pixels): an image becomes a link to it,
            # as Markdown image syntax in a posted comment does.
            alt = (el.attrs.get("alt") or "").strip() or "image"
            src = (el.attrs.get("src") or "").strip()
            return f"[{alt}]({src})" if src else alt

    return Converter(heading_style="ATX")


def html_to_markdown(html: str) -> str:
    """Source HTML -> Markdown. Scripts and styles go with their content (markdownify's
    default); everything else becomes Markdown or text that our renderer (raw HTML off) and
    nh3 then make as safe as a posted comment."""
    return cast(str, _converter().convert(html))


def prepare(body: str, html: bool) -> tuple[str, str | None, str | None]:
    """(Markdown, sanitised HTML, fingerprint) of a source body; ("", None, None) if empty.
    A pure function of its arguments, so worker processes can run it."""
    text = html_to_markdown(body) if html else body
    # What clean_body refuses in a posted comment, repaired rather than refused (the archive
    # is what it is): NUL characters and lone surrogates.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()
    if not text:
        return "", None, None
    return text, bodies.render(text), bodies.fingerprint(text)


def prepare_many(items: list[tuple[str, bool]]) -> list[tuple[str, str | None, str | None]]:
    """``prepare`` over a worker's share of a window."""
    return [prepare(body, html) for body, html in items]
