"""The renewals page measured: the AMs, a new AM and the managers, beside its SELECTs replayed."""

import random
from dataclasses import dataclass, field

from ..mdwriter import span
from ..plans import abridge, explain, select_statements
from ..timing import PageTimes, percentile, replay_statements, time_requests
from .data import BIG_TABLES, MANAGER_REQUESTS, PAGE_WARMUP, QUERY_COUNT_SAMPLE, SMALL_AM_REQUESTS, DataSet


@dataclass
class Page(PageTimes):
    name: str
    url: str
    measured: bool
    note: str = ""
    ms: list[float] = field(default_factory=list)  # big-book AMs, in turn
    small_ms: list[float] = field(default_factory=list)
    manager_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # baseline, same order as ms
    manager_sql_ms: list[float] = field(default_factory=list)  # baseline, same order as manager_ms
    queries: list[int] = field(default_factory=list)
    small_queries: list[int] = field(default_factory=list)
    manager_queries: list[int] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    manager_statements: list[str] = field(default_factory=list)
    kib: float = 0.0
    small_kib: float = 0.0
    manager_kib: float = 0.0
    plans: dict[str, str] = field(default_factory=dict)
    manager_plans: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def measure_page(data: DataSet, requests: int, log=print) -> list[Page]:
    """``GET /renewals/`` as the AMs, the new AM and the managers; not measured (and said so)
    while the page is missing or failing."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("renewals:renewals")
    except NoReverseMatch:
        log("renewals: no URL named renewals:renewals yet; page not measured")
        return [
            Page(
                name="renewals",
                url="renewals:renewals",
                measured=False,
                note="no URL named renewals:renewals",
            )
        ]

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[*data.ams, *data.managers])}
    big = [users[pk] for pk in data.big_ams]
    small = users[data.small_am]
    managers = [users[pk] for pk in data.managers]
    rng = random.Random(6)
    order = [big[k % len(big)] for k in range(requests)]
    rng.shuffle(order)

    call_command("collectstatic", interactive=False, verbosity=0)
    sessions = {}
    for user in [*big, small, *managers]:
        login = Client()
        login.force_login(user)
        sessions[user.pk] = login.cookies[settings.SESSION_COOKIE_NAME].value
    client = Client(HTTP_HOST="127.0.0.1")

    def get(user) -> int:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[user.pk]
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} for {user}")
        return len(response.content)

    try:
        get(big[0])
    except Exception as exc:  # the page is being built: say so
        reason = f"{type(exc).__name__}: {exc}"[:300]
        log(f"renewals: WARNING: GET {url} failed ({reason}); page not measured")
        return [Page(name="renewals", url=url, measured=False, note=f"GET failed: {reason}")]

    page = Page(name="renewals", url=url, measured=True)
    log(f"renewals: GET {url}, {requests} requests across {len(big)} AMs, then the new AM and the managers")
    for user in big[:PAGE_WARMUP]:
        get(user)
    page.ms = time_requests(get, order)
    page.small_ms = time_requests(get, [small] * SMALL_AM_REQUESTS)
    manager_order = [managers[k % len(managers)] for k in range(MANAGER_REQUESTS)]
    page.manager_ms = time_requests(get, manager_order)

    compiled = {}
    for user in [*big[:QUERY_COUNT_SAMPLE], small, *managers]:
        with CaptureQueriesContext(connection) as captured:
            size = get(user)
        compiled[user.pk] = select_statements(captured)
        statements = [abridge(q["sql"]) for q in captured]
        if user is small:
            page.small_queries.append(len(captured))
            page.small_kib = size / 1024
        elif user in managers:
            page.manager_queries.append(len(captured))
            page.manager_statements = page.manager_statements or statements
            page.manager_kib = page.manager_kib or size / 1024
        else:
            page.queries.append(len(captured))
            page.statements = page.statements or statements
            page.kib = page.kib or size / 1024
    for user in big[QUERY_COUNT_SAMPLE:]:
        with CaptureQueriesContext(connection) as captured:
            get(user)
        compiled[user.pk] = select_statements(captured)
    page.sql_ms = replay_statements(compiled, order, warmup=PAGE_WARMUP)
    page.manager_sql_ms = replay_statements(compiled, manager_order, warmup=PAGE_WARMUP)
    page.plans, page.problems = explain(compiled[big[0].pk], BIG_TABLES)
    page.manager_plans, manager_problems = explain(compiled[managers[0].pk], BIG_TABLES)
    page.problems += [f"manager: {p}" for p in manager_problems]
    if not page.fixed_queries:
        page.problems.insert(
            0,
            f"queries per request differ: {sorted(set(page.queries))} for AMs with {data.loads['big']:,}"
            f" active contracts, {sorted(set(page.small_queries))} for the AM with {data.loads['small']}",
        )
    log(
        f"renewals: page p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms, {span(page.queries)} queries"
        f" (new AM {span(page.small_queries)}, manager {span(page.manager_queries)} queries,"
        f" p95 {percentile(page.manager_ms, 95):.1f} ms); bare SQL p95 {page.sql_p95_ms:.2f} ms"
    )
    for problem in page.problems:
        log(f"renewals: WARNING: page: {problem}")
    return [page]
