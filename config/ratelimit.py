"""Fixed-window rate limits per client, one Redis round trip per check.

Redis (production) counts across every web process with a pipelined INCR + EXPIRE on a
pooled connection; without Redis (the embedded mode, one web process) Django's cache counts.
"""

import re
import time
from functools import cache as memoize

import redis
from django.conf import settings
from django.core.cache import cache

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
    return redis.Redis.from_url(url)


def client_address(request) -> str:
    """The client's address, from the header a trusted proxy sets (``RATELIMIT_IP_META_KEY``)."""
    value = request.META.get(settings.RATELIMIT_IP_META_KEY, "") or request.META.get("REMOTE_ADDR", "")
    return value.split(",")[0].strip()


def over_limit(group: str, client: str, rate: str) -> bool:
    """Count one request of ``client`` in ``group``; True once it is over ``rate``."""
    limit, window = parse_rate(rate)
    key = f"ratelimit:{group}:{client}:{int(time.time() // window)}"
    if settings.REDIS_URL:
        pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count, _ = pipe.execute()
    else:
        cache.add(key, 0, window + 1)
        count = cache.incr(key)
    return count > limit
