"""The Redis cache fails open and is shared by the process's threads (under ASGI each request
runs in a thread of its own, with its own cache backend instance)."""

import threading
import uuid

import redis
from django.core.cache import caches

from tests.servers import free_port


def in_threads(work, n: int = 6) -> list:
    """Run ``work`` once in each of ``n`` threads, one after another; return the results."""
    results = []
    for _ in range(n):
        thread = threading.Thread(target=lambda: results.append(work()))
        thread.start()
        thread.join()
    return results


def redis_cache(settings, location: str, **options) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "kit.cache.FailOpenRedisCache", "LOCATION": location, "OPTIONS": options}
    }


def test_request_threads_share_one_redis_connection(settings):
    assert settings.REDIS_URL.startswith("redis://"), "needs REDIS_URL"
    name = f"refinery-test-{uuid.uuid4().hex[:10]}"
    redis_cache(settings, settings.REDIS_URL, client_name=name)
    backends = []

    def request():
        backends.append(caches["default"])  # kept alive, as a busy server's would be
        return caches["default"].get_or_set("greeting", "hello")

    assert in_threads(request) == ["hello"] * 6
    assert len({id(backend) for backend in backends}) == 6  # Django: one backend per thread
    clients = redis.Redis.from_url(settings.REDIS_URL).client_list()
    assert len([c for c in clients if c["name"] == name]) == 1


def test_with_redis_unreachable_requests_share_the_fallback(settings):
    redis_cache(settings, f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)

    caches["default"].set("scoring-version", "v2")  # falls back: nothing listens there
    seen = in_threads(lambda: caches["default"].get("scoring-version"))

    assert seen == ["v2"] * 6  # every later request of the process sees it, none raised
