"""The OpenAPI 3.1 document, built from the same Endpoint declarations that serve requests."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from visits.access import Audience
from visits.web.api import Endpoint

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Stable code, e.g. not_found."},
        "message": {"type": "string", "description": "What went wrong, for people."},
        "details": {"type": "object"},
    },
}
_ERROR_TEXT = {
    400: "The input is invalid; the message names the field.",
    401: "Not signed in, or the visit link is invalid.",
    403: "Signed in, but not allowed (or CSRF token missing).",
    404: "No such object that you can see.",
    409: "Conflicts with the current state.",
    410: "No longer available.",
    413: "Body too large.",
    415: "Body is not JSON.",
    429: "Too many attempts; see Retry-After.",
}


def _schema(annotation: Any, mode: str, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(annotation).json_schema(
        ref_template="#/components/schemas/{model}",
        mode=mode,  # type: ignore[arg-type]
    )
    components.update(schema.pop("$defs", {}))
    return schema


def _security(audience: Audience) -> list[dict[str, list[str]]]:
    if audience is Audience.ANYONE:
        return []
    if audience is Audience.LINK:
        return [{"visitLink": []}]
    return [{"staffSession": []}]


def _operation(endpoint: Endpoint, components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.handler.__name__,
        "summary": endpoint.summary,
        "tags": [endpoint.tag] if endpoint.tag else [],
        "security": _security(endpoint.audience),
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
            for name in endpoint.id_params
        ],
    }
    if endpoint.query is not None:
        query_schema = _schema(endpoint.query, "validation", components)
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            operation["parameters"].append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": _schema(endpoint.body, "validation", components)}
            },
        }
    success: dict[str, Any] = {"description": endpoint.summary}
    if endpoint.raw_response:
        success["content"] = {endpoint.raw_response: {"schema": {"type": "string"}}}
    elif endpoint.response is not None:
        success["content"] = {
            "application/json": {"schema": _schema(endpoint.response, "serialization", components)}
        }
    status = (
        204
        if endpoint.response is None and not endpoint.raw_response and endpoint.status == 200
        else endpoint.status
    )
    errors = set(endpoint.errors)
    if endpoint.body is not None:
        errors |= {400, 413, 415}
    if endpoint.query is not None:
        errors.add(400)
    if endpoint.audience is not Audience.ANYONE:
        errors |= {401, 403, 429}
    if endpoint.id_params:
        errors.add(404)
    operation["responses"] = {str(status): success} | {
        str(code): {
            "description": _ERROR_TEXT.get(code, "Error."),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in sorted(errors)
    }
    return operation


def openapi_document(endpoints: list[Endpoint], title: str, version: str) -> dict[str, Any]:
    components: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in sorted(endpoints, key=lambda e: (e.path, e.method)):
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, components
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "staffSession": {"type": "apiKey", "in": "cookie", "name": "vv_session"},
                "visitLink": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token of a join link.",
                },
            },
        },
    }
