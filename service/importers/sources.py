"""What the parsers share: opening files, reading XML as a stream, times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, iterparse

from .records import SourceError


class Counting:
    """A binary file that tells how many bytes have been read (for the progress bar)."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None = None) -> None:
        self.raw = raw
        self.on_read = on_read

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if self.on_read is not None and data:
            self.on_read(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.raw.readline(size)
        if self.on_read is not None and data:
            self.on_read(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


def local(tag: str) -> str:
    """'{http://disqus.com}post' -> 'post' (exports differ in namespace versions)."""
    return tag.rsplit("}", 1)[-1]


def children(element: Element) -> dict[str, Element]:
    """The element's children by local name (the first of each)."""
    found: dict[str, Element] = {}
    for child in element:
        found.setdefault(local(child.tag), child)
    return found


def text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def attr(element: Element | None, name: str) -> str:
    """An attribute by local name, whatever its namespace (dsq:id)."""
    if element is None:
        return ""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value.strip()
    return ""


def truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def records_of(handle: Any, depth: int, what: str) -> Iterator[Element]:
    """Stream the elements at ``depth`` (the root is depth 1), each freed once the caller is
    done with it, so memory stays flat. The parser honours the encoding the file declares
    (UTF-8, ISO-8859-1, windows-1252, ...). A truncated or malformed file raises SourceError
    naming the line."""
    stack: list[Element] = []
    try:
        for event, element in iterparse(handle, events=("start", "end")):
            if event == "start":
                stack.append(element)
                continue
            stack.pop()
            if len(stack) == depth - 1:
                yield element
                if stack:
                    stack[-1].clear()  # forget the elements already handled
    except ParseError as exc:
        line, column = exc.position
        raise SourceError(
            f"the {what} file is not well-formed XML at line {line}, column {column} "
            f"({str(exc).split(':')[0]}); a truncated file ends like this"
        ) from None


def parse_time(value: str, *, what: str, assume_utc: bool = True) -> dt.datetime:
    """ISO 8601 ('2013-10-10T19:20:29Z', with fractions or an offset, or
    '2014-01-14 17:31:03' read as UTC) -> an aware UTC datetime."""
    raw = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SourceError(f"{what}: {raw!r} is not a date and time") from None
    if parsed.tzinfo is None:
        if not assume_utc:
            raise SourceError(f"{what}: {raw!r} has no time zone")
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
