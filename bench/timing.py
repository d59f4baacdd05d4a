"""How every bench section times its work: wall-clock blocks, the statements a block sends,
requests in turn and their bare SQL replayed, and the percentiles of the results."""

import gc
import math
import time
from time import perf_counter_ns as time_ns
from typing import Any


class Timer:
    """Wall-clock seconds of a ``with`` block (``time.perf_counter``)."""

    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


class StatementTimer:
    """Each statement the default connection executes in the block: ``(sql, params, ms)``, the
    milliseconds its ``execute()`` took to the microsecond. Unlike ``CaptureQueriesContext`` it
    does not round to the millisecond, has no 9,000-query cap, and keeps the parameters, so a
    statement can be explained as sent."""

    def __enter__(self) -> "StatementTimer":
        from django.db import connection

        self.statements: list[tuple[str, Any, float]] = []  # (sql, params as sent, ms)
        self._wrapper = connection.execute_wrapper(self._time)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._wrapper.__exit__(*exc)

    def _time(self, execute, sql, params, many, context):
        start = time_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, (time_ns() - start) / 1e6))

    @property
    def timed(self) -> list[tuple[str, float]]:
        """``(sql, ms)`` of each statement."""
        return [(sql, ms) for sql, _, ms in self.statements]


def statement_kind(sql: str) -> str:
    """ "UPDATE leads_lead", "SELECT team_user", "SELECT leads_lead FOR UPDATE", "SAVEPOINT"..."""
    verb = (sql.split(None, 1) or ["?"])[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "SAVEPOINT"
    after = {"SELECT": " FROM ", "INSERT": " INTO ", "UPDATE": "UPDATE ", "DELETE": " FROM "}.get(verb)
    table = ""
    if after and after in sql:
        table = sql.split(after, 1)[1].split(None, 1)[0].strip('"')
    lock = " FOR UPDATE" if verb == "SELECT" and "FOR UPDATE" in sql.upper() else ""
    return f"{verb} {table}{lock}".strip()


def statement_kinds(statements: list[tuple[str, Any, float]]) -> dict[str, list]:
    """A ``StatementTimer``'s statements by kind: kind -> [count, ms of execute()]."""
    kinds: dict[str, list] = {}
    for sql, _, ms in statements:
        kind = kinds.setdefault(statement_kind(sql), [0, 0.0])
        kind[0] += 1
        kind[1] += ms
    return kinds


def time_requests(one, order) -> list[float]:
    """``one(who)`` for each of ``order`` in turn: the milliseconds of each call. What the
    process holds before the first call is frozen out of the garbage collector, as a web process
    freezes what it holds after its warm-up (``kit.warmup.freeze_heap``)."""
    from kit.warmup import freeze_heap

    freeze_heap()  # also collects: the set-up's garbage is not the requests'
    ms = []
    try:
        for who in order:
            start = time_ns()
            one(who)
            ms.append((time_ns() - start) / 1e6)
    finally:
        gc.unfreeze()
    return ms


def replay_statements(compiled: dict[int, list[str]], order, *, warmup: int) -> list[float]:
    """A page's baseline: each request's SELECTs, as sent, through a cursor, in ``order`` (after
    the first ``warmup`` users' once, untimed): the milliseconds of each request's."""
    from django.db import connection

    ms = []
    with connection.cursor() as cursor:
        for statements in list(compiled.values())[:warmup]:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
        for who in order:
            start = time_ns()
            for sql in compiled[who.pk]:
                cursor.execute(sql)
                cursor.fetchall()
            ms.append((time_ns() - start) / 1e6)
    return ms


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Timed:
    """The median and 95th percentile of ``ms`` (a measured page's server times)."""

    ms: list[float]

    @property
    def p50_ms(self) -> float:
        return percentile(self.ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.ms, 95)


class PageTimes(Timed):
    """The percentiles of a measured page (``ms``: server times, ``sql_ms``: its bare SQL) and
    whether its query count stayed the same at both data sizes."""

    sql_ms: list[float]
    queries: list[int]
    small_queries: list[int]

    @property
    def sql_p50_ms(self) -> float:
        return percentile(self.sql_ms, 50)

    @property
    def sql_p95_ms(self) -> float:
        return percentile(self.sql_ms, 95)

    @property
    def fixed_queries(self) -> bool:
        return len(set(self.queries) | set(self.small_queries)) == 1
