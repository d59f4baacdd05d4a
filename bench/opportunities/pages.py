"""The AE inbox and pipeline pages measured for an AE with a big book and a new hire, beside
the SELECTs each request sent, replayed."""

import random
from dataclasses import dataclass, field

from ..mdwriter import span
from ..plans import abridge, explain, select_statements
from ..timing import PageTimes, percentile, replay_statements, time_requests
from .data import BIG_TABLES, DataSet

PAGE_WARMUP = 20
QUERY_COUNT_SAMPLE = 10  # big-load AEs whose requests are counted (and the small one)
SMALL_AE_REQUESTS = 50

PAGES = (
    ("inbox", "accounts:inbox", ""),
    ("pipeline board", "accounts:pipeline", ""),
    ("pipeline list", "accounts:pipeline", "?view=list"),
)


@dataclass
class Page(PageTimes):
    name: str
    url: str
    measured: bool
    note: str = ""  # why it was not measured, or a warning
    ms: list[float] = field(default_factory=list)  # big-load AEs, in turn
    small_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # baseline, same order as ms
    queries: list[int] = field(default_factory=list)  # big-load AEs (a sample)
    small_queries: list[int] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)  # one big-load request's, abridged
    small_statements: list[str] = field(default_factory=list)
    kib: float = 0.0  # response size, big-load AE
    small_kib: float = 0.0
    plans: dict[str, str] = field(default_factory=dict)  # statement -> EXPLAIN (ANALYZE, BUFFERS)
    problems: list[str] = field(default_factory=list)


def page_url(name: str, query: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name) + query
    except NoReverseMatch:
        return None


def measure_pages(data: DataSet, requests: int, log=print) -> list[Page]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=data.aes)}
    big = [users[pk] for pk in data.big_aes]
    small = users[data.small_ae]
    rng = random.Random(5)
    order = [big[k % len(big)] for k in range(requests)]
    rng.shuffle(order)

    # As at a deployment: the pages' {% static %} tags need the manifest (DEBUG is off).
    call_command("collectstatic", interactive=False, verbosity=0)
    sessions = {}
    for ae in [*big, small]:
        login = Client()
        login.force_login(ae)
        sessions[ae.pk] = login.cookies[settings.SESSION_COOKIE_NAME].value
    # One client, like one server process, each request with the session of the AE it is for.
    client = Client(HTTP_HOST="127.0.0.1")

    pages = []
    for name, url_name, query in PAGES:
        url = page_url(url_name, query)
        if url is None:
            log(f"opportunities: {name}: no URL named {url_name} yet; not measured")
            pages.append(
                Page(name=name, url=f"{url_name}{query}", measured=False, note=f"no URL named {url_name}")
            )
            continue

        def get(ae, url=url) -> int:
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[ae.pk]
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code} for {ae}")
            return len(response.content)

        try:
            get(big[0])
        except Exception as exc:  # the page is being built: say so, measure the others
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log(f"opportunities: WARNING: GET {url} failed ({reason}); not measured")
            pages.append(Page(name=name, url=url, measured=False, note=f"GET failed: {reason}"))
            continue
        page = Page(name=name, url=url, measured=True)
        log(f"opportunities: {name}: GET {url}, {requests} requests across {len(big)} AEs, then the small AE")
        for ae in big[:PAGE_WARMUP]:
            get(ae)
        page.ms = time_requests(get, order)
        page.small_ms = time_requests(get, [small] * SMALL_AE_REQUESTS)

        # Queries counted on a sample of big-load AEs and the small one; the SELECTs of each
        # request kept, to run again as the baseline.
        compiled = {}
        for ae in [*big[:QUERY_COUNT_SAMPLE], small]:
            with CaptureQueriesContext(connection) as captured:
                size = get(ae)
            compiled[ae.pk] = select_statements(captured)
            if ae is small:
                page.small_queries.append(len(captured))
                page.small_statements = [abridge(q["sql"]) for q in captured]
                page.small_kib = size / 1024
            else:
                page.queries.append(len(captured))
                page.statements = page.statements or [abridge(q["sql"]) for q in captured]
                page.kib = page.kib or size / 1024
        for ae in big[QUERY_COUNT_SAMPLE:]:
            with CaptureQueriesContext(connection) as captured:
                get(ae)
            compiled[ae.pk] = select_statements(captured)
        page.sql_ms = replay_statements(compiled, order, warmup=PAGE_WARMUP)
        page.plans, page.problems = explain(compiled[big[0].pk], BIG_TABLES)
        if not page.fixed_queries:
            page.problems.insert(
                0,
                f"queries per request differ: {sorted(set(page.queries))} for AEs with"
                f" {data.loads['big']['total']:,} opportunities, {sorted(set(page.small_queries))} for the AE"
                f" with {data.loads['small']['total']}",
            )
        log(
            f"opportunities: {name}: p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms,"
            f" {span(page.queries)} queries (small AE: {span(page.small_queries)}, p95"
            f" {percentile(page.small_ms, 95):.1f} ms); bare SQL p95 {page.sql_p95_ms:.2f} ms; {page.kib:.0f} KiB"
        )
        for problem in page.problems:
            log(f"opportunities: WARNING: {name}: {problem}")
        pages.append(page)
    return pages
