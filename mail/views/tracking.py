"""The public ends of the links in outgoing email. They need no login (the recipient has
none); each token is signed for its one purpose (``mail.tracking``), so a guessed or altered
one is a 404 (the pixel: still a pixel, revealing nothing)."""

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import tracking
from ..services import engagement

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    message_id = tracking.read_open(token)
    if message_id is not None and tracking.tracking_enabled() and request.method == "GET":
        engagement.record_open(message_id=message_id)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    found = tracking.read_click(token)
    if found is None:
        raise Http404("This link is not valid.")
    message_id, url = found
    if tracking.tracking_enabled() and request.method == "GET":
        engagement.record_click(message_id=message_id, url=url)
    return HttpResponseRedirect(url)


@csrf_exempt  # RFC 8058: the recipient's mail client POSTs here with no session and no token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    message_id = tracking.read_unsubscribe(token)
    if message_id is None:
        raise Http404("This link is not valid.")
    if request.method == "GET":
        # A GET changes nothing (link scanners follow every link): the page asks to confirm.
        return render(request, "mail/unsubscribe.html", {"done": False})
    address = engagement.unsubscribe(message_id=message_id)
    if address is None:
        raise Http404("This link is not valid.")
    return render(request, "mail/unsubscribe.html", {"done": True, "address": address})
