"""Live pages by conditional polling: a page kept open asks a small endpoint every few seconds
whether what it shows has changed, sending the version it has (``If-None-Match``); the
endpoint computes the version from one cheap query and answers ``304 Not Modified`` without
rendering when nothing changed, or the page's fragment with its new version when something did.
``static/js/live.js`` does the asking (paused while the tab is hidden, backing off on errors).

Why polling and not server-sent events, measured (``make bench --only live``, 500 open queue
pages on production's server, gunicorn with uvicorn workers, 2 cores): polling every 15 s cost
about 0.56 cores and 116 database transactions a second; async streams checking the same
version every 15 s cost about 0.26 cores and 53 transactions a second, but held a thread per
open page (Django runs a request's synchronous parts on a thread kept for the request's life)
and 117 KB each. We kept polling: its cost is a fraction of a core at 500 pages, it holds
nothing per page, works through any proxy and across a browser's six HTTP/1.1 connections per
host (each open tab would hold one stream), and a deploy does not reconnect every open page at
once. Streams become worth it where the per-request cost of a poll dominates; see the bench's
live figure.

The version is an HMAC of the viewer, the page and a fingerprint of the rows the page shows
(counts and sums of ids, from one aggregate query the view writes): opaque, different for two
viewers of the same rows, and changed only by what the viewer's own page would show, so a
304 or a 200 reveals nothing about anybody else's rows.
"""

from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.crypto import salted_hmac
from django.utils.http import parse_etags

# Changed whenever a live fragment's markup changes meaning, so an open page after a deploy
# gets the new fragment rather than a 304 for the old one.
FRAGMENT_VERSION = "1"


def live_etag(request: HttpRequest, page: str, fingerprint: Iterable[object]) -> str:
    """The quoted entity tag of ``page`` as ``request.user`` sees it with this fingerprint."""
    parts = [FRAGMENT_VERSION, page, str(request.user.pk), *(str(part) for part in fingerprint)]
    digest = salted_hmac("kit.live", "|".join(parts), algorithm="sha256").hexdigest()[:32]
    return f'"{digest}"'


def not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """A 304 when the request already has ``etag`` (``If-None-Match``), else None."""
    wanted = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in wanted or "*" in wanted:
        return mark(HttpResponseNotModified(), etag)
    return None


def mark(response: HttpResponse, etag: str) -> HttpResponse:
    """The response with its version; never stored by a shared cache, always revalidated."""
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def poll_seconds() -> int:
    """How often an open page asks (``LIVE_POLL_SECONDS``)."""
    return settings.LIVE_POLL_SECONDS
