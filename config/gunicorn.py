"""gunicorn's settings for the web processes: ``gunicorn -c config/gunicorn.py --workers 4
--bind 0.0.0.0:8000``.

The workers are uvicorn's, serving the ASGI application: a request's body is read by the
event loop before Django sees the request, so a client that trickles its body holds a
coroutine, not a process. gunicorn's sync workers read the body inside the view, and four
slow clients held four workers while every other request waited behind them (tests/faults
measures ``GET /login/`` while slow clients trickle).
"""

import os

# Each request's synchronous code runs in a thread of its own under ASGI, so database
# connections come from a pool per worker process (config/settings.py), not one per thread.
os.environ.setdefault("DATABASE_POOL_SIZE", "8")

# Overload is answered by the application's admission control (config/asgi.py, kit/admission.py:
# a 503 with Retry-After at once, per class of request), not by uvicorn's limit_concurrency, whose
# 503 carries no Retry-After and counts reps' pages and the flooded public form together. The
# listen backlog stays gunicorn's 2048: connections are accepted and answered, not left queued.
wsgi_app = "config.asgi:application"
worker_class = "uvicorn_worker.UvicornWorker"
# A worker whose event loop stops answering gunicorn's heartbeat for this long is replaced.
timeout = 30
graceful_timeout = 20
# Idle keep-alive connections are closed after this many seconds.
keepalive = 5


def post_worker_init(worker):
    """Compile the templates and fill the URL resolver before the worker takes requests
    (kit.warmup): otherwise the first view of each page in each worker pays for it. Then
    freeze what the process keeps for life out of the garbage collector's full walks."""
    from kit.warmup import freeze_heap, warm_up

    warm_up()
    freeze_heap()
