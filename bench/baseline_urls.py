"""The application's URLs plus ``/bench/insert/``: the capture benchmark's baseline, the least
work a Django view can do to store a form post (one raw-SQL insert), served by the same
gunicorn configuration, middleware and database connection settings as the web form; and
``/bench/sse/``, the live-updates figure's server-sent-events prototype."""

import time

from django.db import connection
from django.http import HttpResponseForbidden, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as app_urlpatterns


@csrf_exempt
@require_POST
def bench_insert(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_insert (email) VALUES (%s)", [request.POST.get("email", "")])
    return JsonResponse({"ok": True})


def bench_sse(request):
    """The live queue as server-sent events: the stream checks the rep's queue version every
    second and sends an event when it changed, for ``?seconds=`` (at most 60). What it costs is
    not the check but the stream: a sync worker serves nothing else while it is open."""
    from sdr.queue import queue_summary

    if not request.user.is_authenticated:
        return HttpResponseForbidden()
    seconds = min(int(request.GET.get("seconds", "10")), 60)

    def events():
        last = None
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            fingerprint = queue_summary(request.user).fingerprint
            if fingerprint != last:
                last = fingerprint
                yield f"data: {hash(fingerprint)}\n\n"
            time.sleep(1)

    return StreamingHttpResponse(events(), content_type="text/event-stream")


urlpatterns = [*app_urlpatterns, path("bench/insert/", bench_insert), path("bench/sse/", bench_sse)]
