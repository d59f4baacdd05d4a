"""The application's URLs plus ``/bench/insert/``: the capture benchmark's baseline, the least
work a Django view can do to store a form post (one raw-SQL insert), served by the same
gunicorn configuration, middleware and database connection settings as the web form; and
``/bench/sse/``, the live-updates figure's server-sent-events prototype (an async view, for
the production server's uvicorn workers)."""

import asyncio
import time

from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.http import HttpResponseBadRequest, HttpResponseForbidden, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as app_urlpatterns
from kit.live import live_etag
from sdr.access import queue_owner_for
from sdr.queue import queue_summary

SSE_MAX_SECONDS = 600


@csrf_exempt
@require_POST
def bench_insert(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_insert (email) VALUES (%s)", [request.POST.get("email", "")])
    return JsonResponse({"ok": True})


def _queue_version(request, user) -> str:
    """The version ``/queue/live/`` answers this user for their own queue (``sdr.views.queue``:
    the rep's queue summary, signed by ``kit.live``), then the connection back to the pool: a
    stream holds no connection between its checks."""
    try:
        rep, _read_only = queue_owner_for(user, None)
        if rep is None:
            return ""
        summary = queue_summary(rep, timezone.now())
        return live_etag(request, "sdr.queue", (rep.pk, *summary.fingerprint))
    finally:
        connections.close_all()


async def bench_sse(request):
    """The live queue as server-sent events: every ``?interval=`` seconds (default 15, the poll
    interval) the stream computes the version the polling endpoint would answer and sends it as
    an event when it changed, else a comment (the heartbeat that keeps proxies from closing an
    idle stream); for ``?seconds=`` (at most ``SSE_MAX_SECONDS``) or until the client leaves.
    Between checks a stream is a coroutine asleep: no thread, no database connection."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponseForbidden()
    request.user = user  # live_etag signs with the viewer's key, read without a query
    # The middleware's session and user lookups ran on this request's thread with a pooled
    # connection; return it now rather than when the stream ends.
    await sync_to_async(connections.close_all)()
    try:
        seconds = min(int(request.GET.get("seconds", "60")), SSE_MAX_SECONDS)
        interval = max(float(request.GET.get("interval", "15")), 0.5)
    except ValueError:
        return HttpResponseBadRequest("seconds and interval are numbers.")
    version = sync_to_async(_queue_version)

    async def events():
        last = None
        end = time.monotonic() + seconds
        while True:
            current = await version(request, user)
            if current != last:
                last = current
                yield f"event: queue\ndata: {current}\n\n"
            else:
                yield ": unchanged\n\n"
            left = end - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(interval, left))

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


urlpatterns = [*app_urlpatterns, path("bench/insert/", bench_insert), path("bench/sse/", bench_sse)]
