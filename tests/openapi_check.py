"""Check real responses against openapi.yaml, for any test module.

    from tests.openapi_check import assert_matches_spec
    r = client.get("/api/v1/comments/1")
    body = assert_matches_spec("GET", "/api/v1/comments/{comment_id}", r)

``assert_matches_spec`` fails unless the status is documented for that operation (no
``default`` fallback), the content type is one documented for that status, the required
response headers are present (and every documented header that is present matches its
schema), and the body validates against the documented schema (JSON Schema 2020-12, with
``#/components/...`` references resolved inside openapi.yaml by ``referencing``). A method
that the path does not have must be a 405 problem whose ``Allow`` header names exactly the
documented methods.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"
SPEC_URI = "urn:comments-service:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@lru_cache(maxsize=1)
def _registry() -> Registry:
    # The whole document is one resource, so a schema anywhere in it can be addressed by a
    # JSON pointer and its own "#/components/..." references resolve against the document.
    return Registry().with_resource(SPEC_URI, Resource(contents=spec(), specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    escaped = (p.replace("~", "~0").replace("/", "~1") for p in parts)
    return "/" + "/".join(quote(p, safe="") for p in escaped)


def _follow(node: dict[str, Any], parts: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Resolve a (non-schema) OpenAPI ``$ref`` chain: the object and where it lives."""
    seen = set()
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise AssertionError(f"unsupported or circular $ref {ref!r}")
        seen.add(ref)
        parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))
        node = spec()
        for part in parts:
            node = node[part]
    return node, parts


def validator_at(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` (percent-encoded JSON pointer) in the spec."""
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"},
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def schema_validator(component: str) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<component>``."""
    return validator_at(_pointer("components", "schemas", component))


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]


def operations() -> list[tuple[str, str]]:
    """Every (METHOD, path template) in the spec."""
    return [
        (method.upper(), path)
        for path, item in spec()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    ]


def _header_value(schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return float(raw)
    return raw


def _check_headers(
    where: str, documented: dict[str, Any], parts: tuple[str, ...], response: Any
) -> None:
    for name, header in documented.items():
        header, header_parts = _follow(header, (*parts, "headers", name))
        if name not in response.headers:
            assert not header.get("required"), f"{where}: required header {name} is missing"
            continue
        raw = response.headers[name]
        try:
            value = _header_value(header.get("schema", {}), raw)
        except ValueError:
            raise AssertionError(f"{where}: header {name}={raw!r} is not a number") from None
        problems = _errors(validator_at(_pointer(*header_parts, "schema")), value)
        assert not problems, f"{where}: header {name}={raw!r}: {problems}"


def _method_not_allowed(where: str, item: dict[str, Any], response: Any) -> Any:
    documented = {m.upper() for m in item if m in HTTP_METHODS}
    assert response.status_code == 405, (
        f"{where}: the spec has no such operation, so expected 405, got {response.status_code}"
    )
    allowed = {m.strip().upper() for m in response.headers.get("Allow", "").split(",") if m.strip()}
    if "GET" in documented:
        documented.add("HEAD")
    documented.add("OPTIONS")
    assert allowed == documented, f"{where}: Allow {sorted(allowed)} != spec {sorted(documented)}"
    return _check_body(
        where, "application/problem+json", _pointer("components", "schemas", "Problem"), response
    )


def _sse_events(text: str) -> list[dict[str, Any]]:
    """Server-sent events as EventSource reads them: blocks with data, the id carried over."""
    events, last_id = [], None
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        last_id = fields.get("id", last_id)
        if "data" in fields:
            event = {"event": fields.get("event", "message"), "data": fields["data"]}
            if last_id is not None:
                event["id"] = last_id
            if "retry" in fields:
                event["retry"] = int(fields["retry"])
            events.append(event)
    return events


def _check_body(where: str, media_type: str, schema_pointer: str, response: Any) -> Any:
    assert response.mimetype == media_type, (
        f"{where}: content type {response.mimetype!r}, documented {media_type!r}"
    )
    text = response.get_data(as_text=True)
    if media_type == "text/event-stream":  # each event, parsed as a client would
        events = _sse_events(text)
        for number, event in enumerate(events, 1):
            problems = _errors(validator_at(schema_pointer), event)
            assert not problems, f"{where}: event #{number} {event}: " + "; ".join(problems)
        return events
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            body = json.loads(text)
        except ValueError:
            raise AssertionError(f"{where}: body is not JSON: {text[:200]!r}") from None
    elif media_type == "application/yaml":
        body = yaml.safe_load(text)  # as a client reads it (schemathesis does too)
    else:
        body = text
    problems = _errors(validator_at(schema_pointer), body)
    assert not problems, (
        f"{where}: body does not match the spec:\n  "
        + "\n  ".join(problems)
        + (f"\nbody: {text[:1000]}")
    )
    return body


def assert_matches_spec(method: str, path_template: str, response: Any) -> Any:
    """Fail unless ``response`` is one that ``openapi.yaml`` documents for this operation.

    ``path_template`` is the spec's key, e.g. ``/api/v1/comments/{comment_id}``. Returns the
    parsed body (None when the response has none).
    """
    method = method.lower()
    where = f"{method.upper()} {path_template} -> {response.status_code}"
    paths = spec()["paths"]
    assert path_template in paths, f"{path_template} is not in openapi.yaml"
    # The contract: every response carries nosniff.
    assert response.headers.get("X-Content-Type-Options") == "nosniff", f"{where}: no nosniff"
    item = paths[path_template]
    if method not in item:
        return _method_not_allowed(where, item, response)
    responses = item[method]["responses"]
    status = str(response.status_code)
    assert status in responses, (
        f"{where}: status not documented (documented: {sorted(responses)}); "
        f"body: {response.get_data(as_text=True)[:500]}"
    )
    documented, parts = _follow(
        responses[status], ("paths", path_template, method, "responses", status)
    )
    _check_headers(where, documented.get("headers", {}), parts, response)
    content = documented.get("content")
    if not content:
        assert response.get_data() == b"", f"{where}: documented without a body, but has one"
        return None
    assert response.mimetype in content, (
        f"{where}: content type {response.mimetype!r} not documented ({sorted(content)})"
    )
    return _check_body(
        where, response.mimetype, _pointer(*parts, "content", response.mimetype, "schema"), response
    )
