"""The OpenAPI schema's error answers: every operation lists the errors it can give, in the
one format of ``kit/api_errors.py``.

drf-spectacular documents what a view says it returns; the errors come from the framework and
the view's classes, so they are read off the operation here:

- 400 (``ValidationError``: a message list per field) for an operation that takes a body or
  query parameters; 415 for one that takes a body (a content type it does not read);
- 401 when the first authenticator asks for credentials (``WWW-Authenticate``), 403 (not signed
  in, or not allowed) for every operation that needs a user;
- 404 for a path with an id (no such object among those the caller sees) and for a paged list
  (a page past the end);
- 429 (with ``Retry-After``) for an operation with a throttle;
- 409 (a state conflict) where a view declares it with ``extend_schema``.

An error a view declares itself keeps its description and gets the common body.
"""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions

ERROR = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="config.schema.Error",
    schema={
        "type": "object",
        "description": "Why the request as a whole was refused.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
)

_MESSAGES = {"type": "array", "items": {"type": "string"}}
VALIDATION_ERROR = ResolvedComponent(
    name="ValidationError",
    type=ResolvedComponent.SCHEMA,
    object="config.schema.ValidationError",
    schema={
        "type": "object",
        "description": "What was wrong with the input: a list of messages per field at fault "
        "(``non_field_errors``: the input as a whole; an object for a nested field, and for "
        "the rows of a list body, keyed by their 0-based position), or ``detail`` when the "
        "body could not be read at all.",
        "properties": {"detail": {"type": "string"}, "non_field_errors": _MESSAGES},
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {}},
                {"type": "object", "additionalProperties": {}},
            ]
        },
    },
)

DESCRIPTIONS = {
    "400": "Bad input: a list of messages per field at fault.",
    "401": "The credentials were not accepted.",
    "403": "Not signed in, or your role may not do this.",
    "404": "No such object among those you see (or no such page).",
    "409": "The object's state does not allow this.",
    "415": "A content type this operation does not read.",
    "429": "Too many requests: try again after ``Retry-After`` seconds.",
}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if not code.startswith("4"):
                continue
            component = VALIDATION_ERROR if code == "400" else ERROR
            self.registry.register_on_missing(component)
            response["content"] = {"application/json": {"schema": component.ref}}
            response["description"] = response.get("description") or DESCRIPTIONS.get(code, "")
            if code == "429":
                response["headers"] = {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": "Seconds to wait before the next try.",
                    }
                }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation) -> list[str]:
        parameters = operation.get("parameters", [])
        codes = []
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if "requestBody" in operation:
            codes.append("415")
        if self._needs_user():
            authenticators = self.view.get_authenticators()
            if authenticators and authenticators[0].authenticate_header(self.view.request):
                codes.append("401")
            codes.append("403")
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _needs_user(self) -> bool:
        return any(
            not isinstance(permission, permissions.AllowAny) for permission in self.view.get_permissions()
        )
