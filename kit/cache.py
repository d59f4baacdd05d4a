"""A Redis cache that fails open: with Redis unreachable, each process falls back to its own
memory for a few seconds at a time, so a Redis outage slows nothing down and loses nothing.

Django's ``RedisCache`` raises on every call while Redis is down; the public web form and
the capture API read the cache on every request, and a lead must be stored whatever Redis
does. What lives in this cache is either disposable (the scoring version stamp: each process
re-reads the database at least every few minutes anyway) or a best effort (rate-limit
counters, see ``kit.ratelimit``), so a per-process substitute is good enough for the
length of an outage.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

#: What an outage looks like from redis-py (refused, reset, timed out, still loading).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


class Outage:
    """A per-process circuit breaker: after a failure, skip Redis for ``retry_after`` seconds
    so requests during an outage pay no connection timeout, then try again."""

    def __init__(self, name: str, retry_after: float = 5.0) -> None:
        self.name = name
        self.retry_after = retry_after
        self._until = 0.0

    @property
    def down(self) -> bool:
        return time.monotonic() < self._until

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            logger.warning("%s: Redis unavailable (%s); using the local fallback", self.name, exc)
        self._until = time.monotonic() + self.retry_after


# Shared by every instance in the process, per Redis location. Django makes a cache backend per
# thread, and under ASGI each request runs in a thread of its own: a client per instance would
# open a Redis connection per request, and a breaker per instance would forget the outage.
_shared: dict[str, tuple[object, LocMemCache, Outage]] = {}
_shared_lock = threading.Lock()


class FailOpenRedisCache(RedisCache):
    """``RedisCache`` that answers from a per-process memory cache while Redis is down."""

    def __init__(self, server, params):
        super().__init__(server, params)
        key = repr((server, sorted(self._options.items())))
        with _shared_lock:
            if key not in _shared:
                _shared[key] = (
                    self._class(self._servers, **self._options),
                    LocMemCache(f"redis-fallback-{len(_shared)}", {"TIMEOUT": params.get("TIMEOUT", 300)}),
                    Outage(f"cache {server}"),
                )
        self._shared_client, self._fallback, self._outage = _shared[key]

    @property
    def _cache(self):
        return self._shared_client


def _fail_open(name: str):
    def method(self, *args, **kwargs):
        if not self._outage.down:
            try:
                return getattr(super(FailOpenRedisCache, self), name)(*args, **kwargs)
            except REDIS_DOWN as exc:
                self._outage.failed(exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(FailOpenRedisCache, _name, _fail_open(_name))
