"""The application's URLs plus ``/bench/insert/``: the capture benchmark's baseline, the least
work a Django view can do to store a form post (one raw-SQL insert), served by the same
gunicorn configuration, middleware and database connection settings as the web form."""

from django.db import connection
from django.http import JsonResponse
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


urlpatterns = [*app_urlpatterns, path("bench/insert/", bench_insert)]
