"""Fixed-window rate limits per client, one Redis round trip per check.

Redis (production) counts across every web process with a pipelined INCR + EXPIRE on a
pooled connection; without Redis (the embedded mode, one web process) Django's cache counts.
The limit fails open: while Redis is unreachable each process counts on its own (a client
may then get the rate once per process), because refusing or losing a lead is worse.
"""

import re
import time
from functools import cache as memoize

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from kit.cache import REDIS_DOWN, Outage

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/m"`` -> (30, 60); ``"100/10s"`` -> (100, 10)."""
    match = _RATE.match(rate)
    if not match:
        raise ValueError(f"{rate!r} is not a rate such as 30/m or 100/10s")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _SECONDS[unit]


@memoize
def _redis(url: str) -> redis.Redis:
    # Short timeouts: an unreachable Redis must not hold a request for long.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


_outage = Outage("rate limit")
_local_counts = LocMemCache("ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def _count(counter, key: str, window: int) -> int:
    counter.add(key, 0, window + 1)
    return counter.incr(key)


def client_address(request) -> str:
    """The client's address, from the header a trusted proxy sets (``RATELIMIT_IP_META_KEY``)."""
    value = request.META.get(settings.RATELIMIT_IP_META_KEY, "") or request.META.get("REMOTE_ADDR", "")
    return value.split(",")[0].strip()


def _key(group: str, client: str, window: int) -> str:
    return f"ratelimit:{group}:{client}:{int(time.time() // window)}"


def at_limit(group: str, client: str, rate: str) -> bool:
    """True when ``client`` has used up ``rate`` in ``group``'s current window; counts nothing
    (``over_limit`` counts)."""
    limit, window = parse_rate(rate)
    key = _key(group, client, window)
    if not settings.REDIS_URL:
        return (cache.get(key) or 0) >= limit
    if not _outage.down:
        try:
            return int(_redis(settings.REDIS_URL).get(key) or 0) >= limit
        except REDIS_DOWN as exc:
            _outage.failed(exc)
    return (_local_counts.get(key) or 0) >= limit


def over_limit(group: str, client: str, rate: str) -> bool:
    """Count one request of ``client`` in ``group``; True once it is over ``rate``."""
    limit, window = parse_rate(rate)
    key = _key(group, client, window)
    if not settings.REDIS_URL:
        return _count(cache, key, window) > limit
    if not _outage.down:
        try:
            pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count, _ = pipe.execute()
            return count > limit
        except REDIS_DOWN as exc:
            _outage.failed(exc)
    return _count(_local_counts, key, window) > limit
