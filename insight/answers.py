"""The answers of the insight statements, remembered until the lead facts change.

A page's numbers are a few large statements over the lead facts (``LeadFact``). At a million
leads a year-long period puts half a million facts in a cohort, and exact medians sort them:
a few hundred milliseconds however the statement is written. But the facts only change when
``insight.facts`` writes them (the refresh every minute, the nightly rebuild), and both bump
``RefreshState.generation`` in the transaction that writes. So the rows a statement returns
are the same for as long as the generation is: ``fetch`` keeps them in the cache under the
statement, its parameters and the generation, and a new generation makes every remembered
answer unreachable at once. An answer is never older than the facts it was computed from, and
it is exactly what the statement returns (the rows as the driver gave them, before any
Python conversion).

Statements asked in the last ``ASKED_FOR`` are recomputed by the worker when the facts change,
most recently asked first, within ``REWARM_BUDGET``: inside the run's transaction, for the
generation it is about to commit (``prepare``, called by ``insight.tasks``), so the answers are
there the moment the new facts are; what the budget left, right after (``rewarm``). A manager
who keeps a year-long page open is served from memory even on a day when the facts change
every minute, and no view waits for a statement the worker could have run.

What is remembered this way is only what the facts decide. The diagnoses' live counts (the
leads dropped on the floor, the SDRs' open leads, this week's breaches, the renewals nobody has
talked about) read the live tables at the time of the request: the caller floors that time to
the minute (``minute``) and ``recent_aggregate`` keeps the answer for that minute, so a page
viewed again and again by the managers of a team counts once a minute, and says as of when. The
rows behind a diagnosis are never remembered.
Labels joined in the same statement (a campaign's name) are refreshed with the next change of
the facts. Without a ``RefreshState`` row (the facts were never computed) nothing is kept.
"""

import hashlib
import logging
import pickle
import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connections
from django.db.models import Aggregate, QuerySet, Value

from .scope import UNREAD, Scope, generation

logger = logging.getLogger(__name__)

PREFIX = "insight:answers"
ASKED = f"{PREFIX}:asked"  # the keys of the statements asked recently, most recent first
KEPT_FOR = timedelta(hours=2)  # an answer of an old generation lingers no longer than this
ASKED_FOR = timedelta(minutes=30)  # how long a statement is re-warmed after it was last asked
MOST_ASKED = 500  # statements the re-warm list holds (the re-warm budget bounds the work)
REWARM_BUDGET = timedelta(seconds=30)
RECENT_FOR = timedelta(minutes=1)  # how long a live count is kept (its time is floored to the minute)


def of(scope: Scope) -> int | None:
    """The generation ``scope`` asks of, read now if it was not when the scope was made."""
    if scope.generation is UNREAD:
        scope.generation = generation(scope.facts.db)
    return scope.generation  # type: ignore[return-value]  # read above: no longer UNREAD


def _statement_key(alias: str, sql: str, params) -> str:
    digest = hashlib.sha256(pickle.dumps((alias, sql, tuple(params)), protocol=5)).hexdigest()
    return f"{PREFIX}:q:{digest}"


def _answer_key(statement_key: str, generation: int) -> str:
    return f"{statement_key}:g{generation}"


def _execute(alias: str, sql: str, params) -> tuple[list[str], list[tuple]]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return [c[0] for c in cursor.description], [tuple(r) for r in cursor.fetchall()]


def fetch(alias: str, sql: str, params, generation_now=UNREAD) -> tuple[list[str], list[tuple]]:
    """``(column names, rows)`` of ``sql`` with ``params`` on the database ``alias``: from the
    cache when this generation of the facts answered it already, else run and kept.
    ``generation_now``: the caller's reading of ``generation`` (a page reads it once)."""
    if generation_now is UNREAD:
        generation_now = generation(alias)
    if generation_now is None:
        return _execute(alias, sql, params)
    statement_key = _statement_key(alias, sql, params)
    answer_key = _answer_key(statement_key, generation_now)
    found = cache.get_many([answer_key, statement_key])
    if answer_key in found:
        cache.touch(statement_key, ASKED_FOR.total_seconds())  # still asked: keep re-warming it
        return found[answer_key]
    answer = _execute(alias, sql, params)
    cache.set(answer_key, answer, KEPT_FOR.total_seconds())
    cache.set(statement_key, (alias, sql, tuple(params)), ASKED_FOR.total_seconds())
    if statement_key not in found:
        _remember_asked(statement_key)
    return answer


def values(queryset: QuerySet, generation_now=UNREAD) -> list[dict]:
    """``list(queryset)`` of a ``.values()`` queryset through ``fetch``: the same dicts, the
    database's values converted by Django as it would (a truncated date on SQLite, say)."""
    return _values(queryset, lambda alias, sql, params: fetch(alias, sql, params, generation_now))


def _values(queryset: QuerySet, fetcher) -> list[dict]:
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    _, rows = fetcher(queryset.db, sql, params)
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    return [dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[rows])]


def minute(moment: datetime) -> datetime:
    """``moment`` floored to its minute: the time a live count is taken at (``recent_aggregate``)."""
    return moment.replace(second=0, microsecond=0)


def recent_aggregate(queryset: QuerySet, at: datetime, **aggregates: Aggregate) -> dict:
    """``queryset.aggregate(**aggregates)`` counted in the minute ``at`` (floored by ``minute``;
    the statement's own times should be too): remembered under the statement and that minute
    for ``RECENT_FOR``, so the same question asked again within the minute is answered from the
    cache, and the answer a page shows as of ``at`` was counted during it. For counts of the
    live tables, whatever the facts' generation."""
    one_row = queryset.order_by().annotate(recent_part=Value(0)).values("recent_part").annotate(**aggregates)

    def remembered(alias: str, sql: str, params) -> tuple[list[str], list[tuple]]:
        key = f"{_statement_key(alias, sql, params)}:at:{minute(at).isoformat()}"
        answer = cache.get(key)
        if answer is None:
            answer = _execute(alias, sql, params)
            cache.set(key, answer, RECENT_FOR.total_seconds())
        return answer

    (row,) = _values(one_row, remembered)  # no GROUP BY (a constant is not grouped): always one row
    return {name: row[name] for name in aggregates}


def _remember_asked(statement_key: str) -> None:
    """Put a newly asked statement first on the re-warm list (best effort: two misses at once
    may drop one; it comes back at its next miss)."""
    asked = [key for key in cache.get(ASKED, []) if key != statement_key]
    cache.set(ASKED, [statement_key, *asked][:MOST_ASKED], KEPT_FOR.total_seconds())


def rewarm(using: str = "default", budget: timedelta = REWARM_BUDGET) -> int:
    """Compute, for the facts' current generation, the statements asked in the last
    ``ASKED_FOR`` that it has not answered yet, most recently asked first, until ``budget``
    is spent. Returns how many were computed. The statements no longer asked leave the list."""
    generation_now = generation(using)
    if generation_now is None:
        return 0
    return len(_answer_recent(using, budget, generation_now))


def prepare(generation_next: int, using: str = "default", budget: timedelta = REWARM_BUDGET) -> list[str]:
    """``rewarm`` for ``generation_next``, the generation a facts run is about to commit,
    called inside that run's transaction (its connection reads the new facts). Returns the
    keys written, for ``forget`` should the run roll back."""
    return _answer_recent(using, budget, generation_next)


def forget(keys: list[str]) -> None:
    """Drop answers ``prepare`` wrote for a run that did not commit."""
    if keys:
        cache.delete_many(keys)


def _answer_recent(using: str, budget: timedelta, generation_now: int) -> list[str]:
    deadline = time.monotonic() + budget.total_seconds()
    asked = cache.get(ASKED, [])
    statements = cache.get_many(asked)
    still_asked = [key for key in asked if key in statements]
    if len(still_asked) != len(asked):
        cache.set(ASKED, still_asked, KEPT_FOR.total_seconds())
    answers = cache.get_many([_answer_key(key, generation_now) for key in still_asked])
    computed: list[str] = []
    for key in still_asked:
        answer_key = _answer_key(key, generation_now)
        alias, sql, params = statements[key]
        if answer_key in answers or alias != using:
            continue
        if time.monotonic() > deadline:
            logger.info("insight answers: re-warm budget spent after %d statements", len(computed))
            break
        cache.set(answer_key, _execute(alias, sql, params), KEPT_FOR.total_seconds())
        computed.append(answer_key)
    return computed
