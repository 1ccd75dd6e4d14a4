"""JSON out with orjson: a thread page serialises in a fraction of the standard library's
time. Input keeps the standard library (``loads``): orjson refuses lone surrogates as
malformed JSON, where the API answers them with a 422 that names the field.

Types orjson would write differently from Flask (datetimes, dataclasses) are passed through
to Flask's own ``default``, so every response means exactly what it did before.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


MAX_JSON_DEPTH = 512  # no request body of this API nests more than a few levels


def _too_deep(value: Any) -> bool:
    """More than MAX_JSON_DEPTH nested arrays or objects (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


class OrjsonProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # The standard library's parser recurses once per nesting level: a body of a thousand
        # "[" raised RecursionError, a 500. As malformed JSON it becomes Flask's 400 (#14 item 10).
        # How deep the parser gets before that depends on the stack below it, so a body
        # nested deeper than MAX_JSON_DEPTH is refused the same way wherever it is parsed.
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _too_deep(value):
            raise ValueError("JSON nested too deeply")
        return value

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # indent, sort_keys...: the standard library knows them all
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=OPTIONS).decode()
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: the standard library escapes it
            return super().dumps(obj)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=self.default, option=OPTIONS) + b"\n"
        except orjson.JSONEncodeError:
            return cast(Response, super().response(obj))  # the app's response_class
        return cast(Flask, self._app).response_class(body, mimetype=self.mimetype)
