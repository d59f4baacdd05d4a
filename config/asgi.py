"""The ASGI application the web runs (config/gunicorn.py: uvicorn's workers).

Under ASGI, Django reads a request's whole body (spooling it to disk past
``FILE_UPLOAD_MAX_MEMORY_SIZE``) before any view can look at its size, so a view's own limit
(the web form's 16 KB) comes too late to spare the disk. Bodies over ``MAX_BODY_BYTES`` are
refused here first: a declared length at once (413), a chunked body when it passes the limit.
Behind that, admission control (``kit.admission``) answers overload with a 503 at once.
"""

import os
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application

from kit.admission import AdmissionControl, Budget

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application: Any = get_asgi_application()
if settings.WEB_ADMISSION_CONTROL:
    django_application = AdmissionControl(
        django_application,
        budgets={
            "public": Budget(
                settings.WEB_PUBLIC_CONCURRENCY, settings.WEB_PUBLIC_QUEUE, settings.WEB_PUBLIC_WAIT_MS / 1000
            ),
            "site": Budget(
                settings.WEB_SITE_CONCURRENCY, settings.WEB_SITE_QUEUE, settings.WEB_SITE_WAIT_MS / 1000
            ),
        },
        retry_after_seconds=settings.WEB_RETRY_AFTER_SECONDS,
        session_cookie=settings.SESSION_COOKIE_NAME,
    )

# The largest legitimate body: a 50 MB lead import (leads/forms.py) and its multipart framing.
MAX_BODY_BYTES = 64 * 1024 * 1024


async def application(scope, receive, send):
    if scope["type"] != "http":
        return await django_application(scope, receive, send)
    length = dict(scope.get("headers") or ()).get(b"content-length")
    if length is not None:
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return await _too_large(send)
        return await django_application(scope, receive, send)

    received = 0

    async def receive_within_limit():
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                return {"type": "http.disconnect"}  # Django stops reading and answers nothing
        return message

    return await django_application(scope, receive_within_limit, send)


async def _too_large(send) -> None:
    body = b"Request body too large.\n"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
