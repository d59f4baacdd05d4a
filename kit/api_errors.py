"""One error format for everything under /api/.

Every error answer is a JSON object:

- ``{"detail": "..."}`` when the request as a whole is refused: not signed in (403, or 401 for
  a bad token scheme), not allowed (403), no such object or path (404), a method the path does
  not take (405), a state the object is in (409), an unreadable body (400 or 415), too many
  requests (429, with ``Retry-After``), a server error (500);
- ``{"<field>": ["message", ...], "non_field_errors": [...]}`` when an input is refused (400): a
  list of messages per field at fault, ``non_field_errors`` for the input as a whole; a nested
  field's messages are an object, and so are a JSON list's rows' (keyed by 0-based position).

DRF's views come here through ``EXCEPTION_HANDLER``; paths Django answers before any view (a
malformed id the router's patterns do not match, an unknown path, a server error) through the
``handler404``/``handler500``... functions named in ``config/urls.py``, which answer JSON under
/api/ and the site's error pages elsewhere (``403.html``, ``404.html``, ``500.html``: the
navigation and a plain reason; the 500 page is rendered without the request, so it needs no
database and shows a minimal navigation). The schema documents these shapes
(``config/schema.py``).
"""

import logging

from django.core import exceptions as django_exceptions
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Refused

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# The domain's refusals (``kit.errors.Refused``): with a ``field`` they are about that input
# (400), without one about the state of what they act on (409). The handler below answers every
# refusal an action lets through so; the APIs that have always answered every refusal as bad
# input (the queue's, the hand-off's and target accounts', the contracts') catch it and raise
# ``as_bad_input(exc)`` instead.


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object's state does not allow this."
    default_code = "conflict"


def as_bad_input(exc: Refused) -> exceptions.ValidationError:
    """A refusal as a 400 whatever it is about: on the field it names, else in
    ``non_field_errors``. For the APIs whose contract has always been 400 for every refusal of
    their services (a lead or account the caller may not use is named in the body, so a
    refusal about it is about the input); the others let refusals reach the handler."""
    return exceptions.ValidationError({exc.field or "non_field_errors": [str(exc)]})


def _as_object(detail) -> dict:
    """A validation error's detail as the API's object: a bare list of messages (a
    ``ValidationError("...")`` raised outside a field) is about the input as a whole, and a
    list of rows' errors is keyed by position as DRF keys a list serializer's."""
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        if any(isinstance(item, dict | list) for item in detail):
            return {str(i): errors for i, errors in enumerate(detail) if errors}
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def _translate(exc):
    if isinstance(exc, Refused):
        field = getattr(exc, "field", None)
        if field:
            return exceptions.ValidationError({field: [str(exc)]})
        return Conflict(str(exc))
    if isinstance(exc, django_exceptions.ValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({"non_field_errors": exc.messages})
    return exc


def api_exception_handler(exc, context):
    """DRF's handler, with the domain's refusals translated and every body an object."""
    response = drf_exception_handler(_translate(exc), context)
    if response is None:
        return None  # a server error: Django logs it and handler500 answers
    if not isinstance(response.data, dict):
        response.data = _as_object(response.data)
    return response


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(detail: str, code: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=code)


def _reason(exception, default: str) -> str:
    """The message the page's code raised (``Http404("No such lead.")``,
    ``PermissionDenied("Early losses are for managers.")``), written for the person; else
    ``default`` (the resolver's own 404 carries a dict, not a sentence)."""
    message = exception.args[0] if exception is not None and exception.args else None
    return message if isinstance(message, str) and message else default


def _page(request, template_name: str, status: int, reason: str) -> HttpResponse:
    body = loader.render_to_string(template_name, {"reason": reason, "request_path": request.path}, request)
    return HttpResponse(body, status=status)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if _is_api(request):
        return _json("Bad request.", 400)
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if _is_api(request):
        message = str(exception) if exception and str(exception) else "You do not have permission."
        return _json(message, 403)
    return _page(
        request, template_name, 403, _reason(exception, "Your role does not give you access to this page.")
    )


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if _is_api(request):
        return _json("Not found.", 404)
    return _page(request, template_name, 404, _reason(exception, "There is no page at this address."))


def api_not_found(request, rest: str = ""):
    """The last route under /api/: a path the API does not have is a JSON 404 in every mode
    (with DEBUG on, Django's handler404 is bypassed by its technical 404 page)."""
    if not request.path.endswith("/"):
        return _json("Not found. Every API path ends with a slash.", 404)
    return _json("Not found.", 404)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """Rendered without the request (no context processors, no user, no session): whatever
    failed, the database included, this page asks nothing of it."""
    if _is_api(request):
        return _json("Server error.", 500)
    return HttpResponse(loader.render_to_string(template_name), status=500)
