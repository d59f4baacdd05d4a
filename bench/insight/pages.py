"""The insight pages measured for every period and single filter, served (answers
remembered) and computed (answers forgotten), with the slowest case explained; and the
re-warm after a change."""

import gc
import re
from dataclasses import dataclass, field
from datetime import timedelta
from time import perf_counter_ns as time_ns
from typing import Any

from ..plans import abridge, cut
from ..timing import StatementTimer, Timed, percentile
from .data import BIG_TABLES, ZONE, DataSet
from .facts import WRITES, writable_leads

PERIODS = (7, 30, 90, 365)
FILTERS = ("campaign", "channel", "source", "team", "sdr", "origin", "fit_grade")

PAGES: tuple[tuple[str, str, dict[str, str]], ...] = (  # (name, URL name, its arguments)
    ("overview", "insight:overview", {}),
    ("funnel", "insight:section", {"section": "funnel"}),
    ("speed", "insight:section", {"section": "speed"}),
    ("money", "insight:section", {"section": "money"}),
    ("retention", "insight:section", {"section": "retention"}),
)

PAGE_WARMUP = 3
# A case whose first request takes longer than this is far over the target: it gets one
# warm-up request and this many timed ones (its p95 is then their maximum), so that a slow
# page does not hold the run for hours. The table gives each case's request count.
SLOW_CASE_MS = 1_000.0
SLOW_CASE_REQUESTS = 3
PAGE_TARGET_MS = 200.0  # the figure: p95 for any period up to a year and every filter
# Requests per case with the remembered answers forgotten first (insight.answers): what a
# question costs the first time it is asked after the facts changed, when no re-warm had it.
COMPUTED_REQUESTS = 5
SLOW_STATEMENTS = 3  # statements of the slowest request explained


@dataclass
class Case(Timed):
    """One (page, period, filter) measured: its requests' server times and queries."""

    page: str
    days: int
    filter: str  # "" for none
    query: str
    ms: list[float] = field(default_factory=list)  # served: the answers remembered
    computed_ms: list[float] = field(default_factory=list)  # the answers forgotten before each
    queries: int = 0
    computed_queries: int = 0
    same_as_unfiltered: bool = False  # the filter changed nothing on the page (suspicious)

    @property
    def computed_p50_ms(self) -> float:
        return percentile(self.computed_ms, 50)

    @property
    def computed_p95_ms(self) -> float:
        return percentile(self.computed_ms, 95)


@dataclass
class Page:
    name: str
    url: str
    measured: bool
    note: str = ""
    cases: list[Case] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, list[str]] = field(default_factory=dict)  # statement -> indexes used
    problems: list[str] = field(default_factory=list)
    slowest: str = ""  # the case whose statements were explained

    @property
    def p95_ms(self) -> float:
        return max(c.p95_ms for c in self.cases)

    @property
    def computed_p95_ms(self) -> float:
        return max(c.computed_p95_ms for c in self.cases)

    @property
    def worst(self) -> Case:
        return max(self.cases, key=lambda c: c.p95_ms)

    @property
    def worst_computed(self) -> Case:
        return max(self.cases, key=lambda c: c.computed_p95_ms)


def period_for(days: int):
    from zoneinfo import ZoneInfo

    from insight.scope import Period

    return Period.last_days(days, ZoneInfo(ZONE))


def period_query(days: int) -> dict[str, str]:
    """The query string that asks a page for the last ``days`` days, in the names the
    FilterSet (``insight.filters.InsightFilter``) declares: a start and an end date when it
    has them, else a ``period``/``days`` choice."""
    period = period_for(days)
    names = _filter_names()
    for start, end in (("start", "end"), ("since", "until"), ("from", "to"), ("period_start", "period_end")):
        if start in names and end in names:
            return {start: period.start.isoformat(), end: period.end.isoformat()}
    for name in ("period", "days", "last"):
        if name in names:
            return {name: str(days)}
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _filter_names() -> set[str]:
    try:
        from insight.filters import InsightFilter
    except ImportError:
        return set()
    return set(getattr(InsightFilter, "base_filters", {}))


def page_url(name: str, kwargs: dict) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _cases(data: DataSet) -> list[tuple[int, str, dict[str, str]]]:
    cases = []
    for days in PERIODS:
        base = period_query(days)
        cases.append((days, "", base))
        for name in FILTERS:
            cases.append((days, name, base | {name: data.filter_values[name]}))
    return cases


def measure_pages(data: DataSet, requests: int, log=print) -> list[Page]:
    from urllib.parse import urlencode

    from django.core.management import call_command
    from django.test import Client

    from team.models import User

    call_command("collectstatic", interactive=False, verbosity=0)
    manager = User.objects.get(pk=data.manager)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(manager)
    cases = _cases(data)
    pages = []
    for name, url_name, kwargs in PAGES:
        url = page_url(url_name, kwargs)
        if url is None:
            log(f"insight: {name}: no URL named {url_name} yet; not measured")
            pages.append(Page(name=name, url=url_name, measured=False, note=f"no URL named {url_name}"))
            continue

        def get(query: str, url=url) -> bytes:
            response = client.get(f"{url}?{query}")
            if response.status_code != 200:
                raise RuntimeError(f"{url}?{query} answered {response.status_code}")
            return response.content

        try:
            get(urlencode(cases[0][2]))
        except Exception as exc:  # the page is being built: say so, measure the others
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log(f"insight: WARNING: GET {url} failed ({reason}); not measured")
            pages.append(Page(name=name, url=url, measured=False, note=f"GET failed: {reason}"))
            continue
        page = Page(name=name, url=url, measured=True)
        log(f"insight: {name}: GET {url}, {len(cases)} cases x {requests} requests")
        unfiltered: dict[int, bytes] = {}
        for days, filter_name, params in cases:
            query = urlencode(params)
            case = Case(page=name, days=days, filter=filter_name, query=query)
            start = time_ns()
            body = get(query)  # the first warm-up request says how slow the case is
            first_ms = (time_ns() - start) / 1e6
            slow = first_ms > SLOW_CASE_MS
            for _ in range(0 if slow else PAGE_WARMUP - 1):
                body = get(query)
            if not filter_name:
                unfiltered[days] = body
            else:
                case.same_as_unfiltered = body == unfiltered[days]
            with StatementTimer() as traced:
                get(query)
            case.queries = len(traced.statements)
            gc.collect()
            for _ in range(min(requests, SLOW_CASE_REQUESTS) if slow else requests):
                start = time_ns()
                get(query)
                case.ms.append((time_ns() - start) / 1e6)
            forget_answers()
            with StatementTimer() as traced:
                get(query)
            case.computed_queries = len(traced.statements)
            computed = min(COMPUTED_REQUESTS, requests)  # CI's smoke run asks 1
            for _ in range(min(computed, SLOW_CASE_REQUESTS) if slow else computed):
                forget_answers()  # not timed
                start = time_ns()
                get(query)
                case.computed_ms.append((time_ns() - start) / 1e6)
            page.cases.append(case)
        worst = page.worst_computed
        page.slowest = f"{worst.days} d, {worst.filter or 'no filter'}"
        forget_answers()  # the statements of the slowest case as computed, not as remembered
        with StatementTimer() as traced:
            get(worst.query)
        page.plans, page.indexes, page.problems = explain(_selects(traced.statements))
        log(
            f"insight: {name}: served p95 {page.p95_ms:.1f} ms at worst, computed p95"
            f" {page.computed_p95_ms:.1f} ms at worst ({page.slowest}),"
            f" {max(c.computed_queries for c in page.cases)} queries/request at most"
        )
        for problem in page.problems:
            log(f"insight: WARNING: {name}: {problem}")
        pages.append(page)
    return pages


def forget_answers() -> None:
    """A new generation of the facts, as a refresh that changed a fact makes: every remembered
    answer is stale (``insight.answers``), the list of statements to re-warm is kept."""
    from django.db.models import F

    from insight.models import RefreshState

    RefreshState.objects.filter(pk=1).update(generation=F("generation") + 1)


def _selects(captured) -> list[tuple[str, Any]]:
    return [
        (sql, params)
        for sql, params, _ in captured
        if sql.lstrip()[:10].upper().startswith(("SELECT", "WITH", "("))
    ]


INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")


def explain(statements: list[tuple[str, Any]]) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """The ``SLOW_STATEMENTS`` slowest of ``statements`` (each timed once more), explained
    with ANALYZE and BUFFERS; the indexes each plan uses, and what looks wrong: a sequential
    scan of a large table."""
    from django.db import connection

    timed = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            if not any(f'"{t}"' in sql or f" {t} " in sql for t in BIG_TABLES):
                continue
            start = time_ns()
            cursor.execute(sql, params)
            cursor.fetchall()
            timed.append(((time_ns() - start) / 1e6, sql, params))
        timed.sort(key=lambda t: -t[0])
        plans, indexes, problems = {}, {}, []
        for ms, sql, params in timed[:SLOW_STATEMENTS]:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
            key = f"{ms:.1f} ms: {abridge(sql, 160)}"
            plans[key] = plan
            indexes[key] = sorted(set(INDEX_RE.findall(plan)))
            for table in BIG_TABLES:
                if re.search(rf"Seq Scan on {table}\b", plan):
                    problems.append(f"{abridge(sql, 80)} reads {table} with a sequential scan ({ms:.1f} ms)")
    return plans, indexes, problems


@dataclass
class Rewarm:
    asked: int  # statements on the re-warm list after the page loop
    writes: int
    refresh_ms: float
    computed: int
    seconds: float
    answered_p95_ms: float  # the pages afterwards, served from the re-warmed answers


def measure_rewarm(data: DataSet, log=print) -> Rewarm:
    """After the page loop every case's statements are on the re-warm list: change the facts
    (``log_touch`` writes, then ``refresh()``, a new generation) and time
    ``insight.answers.rewarm`` answering them all again (no budget), then one request per
    365-day case, served from what it computed."""
    from urllib.parse import urlencode

    from django.core.cache import cache
    from django.test import Client

    from insight import answers, facts
    from leads.models import ActivityKind
    from sdr.services import log_touch
    from team.models import User

    asked = len(cache.get(answers.ASKED, []))
    targets = writable_leads(data, WRITES[0], set())
    for lead_id, sdr_id in targets:
        log_touch(lead_id=lead_id, by=User.objects.get(pk=sdr_id), kind=ActivityKind.CALL)
    start = time_ns()
    facts.refresh()
    refresh_ms = (time_ns() - start) / 1e6
    start = time_ns()
    computed = answers.rewarm(budget=timedelta(hours=1))
    seconds = (time_ns() - start) / 1e9
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(pk=data.manager))
    served = []
    for _, url_name, kwargs in PAGES:
        url = page_url(url_name, kwargs)
        for days, _, params in _cases(data):
            if days != max(PERIODS):
                continue
            start = time_ns()
            client.get(f"{url}?{urlencode(params)}")
            served.append((time_ns() - start) / 1e6)
    log(
        f"insight: re-warm after {len(targets)} writes: {computed} of {asked} statements in {seconds:.1f} s;"
        f" the 365-day cases afterwards p95 {percentile(served, 95):.1f} ms"
    )
    return Rewarm(asked, len(targets), refresh_ms, computed, seconds, percentile(served, 95))
