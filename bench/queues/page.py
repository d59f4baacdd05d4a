"""The SDR queue page measured, and its longest page, beside its two statements replayed."""

import random
import statistics
from dataclasses import dataclass
from time import perf_counter_ns as time_ns

from ..env import connect
from ..plans import abridge
from ..timing import PageTimes, percentile, time_requests
from .data import DataSet

QUEUE_WARMUP = 20
QUERY_COUNT_SAMPLE = 20
FULL_QUEUE_REPS = 10  # reps given a full queue (a follow-up on each working lead)
FULL_QUEUE_REQUESTS = 100
FULL_QUEUE_MARKER = "Follow up: bench full queue"

# A follow-up on every working lead of these reps that has none open: 150 more items each.
FULL_QUEUE_SQL = """
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at, breached_at, reassign_at, completed_at,
                           completed_by_id)
SELECT 'follow_up', 'open', l.owner_id, l.team_id, %(ct)s, l.id, %(marker)s, '', NULL,
       now() - interval '1 day', now() + (l.id %% 172800 - 43200) * interval '1 second',
       NULL, NULL, NULL, NULL
FROM leads_lead l
WHERE l.owner_id = ANY(%(reps)s::bigint[]) AND l.status = 'working'
  AND NOT EXISTS (SELECT 1 FROM work_workitem f WHERE f.content_type_id = %(ct)s AND f.object_id = l.id
                  AND f.kind = 'follow_up' AND f.state = 'open')
"""


@dataclass
class QueuePage(PageTimes):
    measured: str  # what was timed: the real URL or the fallback
    requests: int
    reps: int
    ms: list[float]
    queries: list[int]  # per request, on a sample
    queue_queries: list[int]  # of which on work items / leads / activities
    statements: list[str]  # the statements of one request, abridged
    items_per_page: float
    orm_ms: list[float]  # queue_for() evaluated, no template, no middleware
    sql_ms: list[float]  # baseline: the same two statements through a cursor
    full_items: int  # the longest page: reps with a queue longer than the page
    full_ms: list[float]
    full_sql_ms: list[float]

    @property
    def full_p95_ms(self) -> float:
        return percentile(self.full_ms, 95)

    @property
    def full_sql_p95_ms(self) -> float:
        return percentile(self.full_sql_ms, 95)


FALLBACK_TEMPLATE = """<table>{% for item in items %}
<tr><td>{{ item.subject.name }}</td><td>{{ item.subject.company }}</td>
<td>{{ item.lead_fit_grade }}</td><td>{{ item.title }}</td><td>{{ item.policy.name|default:"" }}</td>
<td>{{ item.due_at|date:"D d M H:i" }}</td><td>{{ item.last_touch_kind|default:"" }}
{{ item.last_touch_at|date:"D d M H:i" }}</td><td>{{ item.subject.campaign.name|default:"" }}</td></tr>
{% endfor %}</table>"""

QUEUE_TABLES = ("work_workitem", "leads_lead", "leads_activity", "leads_campaign", "work_slapolicy")


def queue_url() -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("sdr:queue")
    except NoReverseMatch:
        return None


def _is_queue_query(sql: str) -> bool:
    head = sql.split(" FROM ", 1)[-1][:200]
    return any(f'"{table}"' in head for table in QUEUE_TABLES)


def measure_queue_page(data: DataSet, requests: int, log=print) -> QueuePage:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.template import engines
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sdr.queue import queue_for
    from sdr.views import QUEUE_PAGE as PAGE_ROWS  # the rows the page shows

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=data.reps)}
    reps = [users[pk] for pk in data.reps]
    rng = random.Random(3)
    order = [reps[n % len(reps)] for n in range(requests)]
    rng.shuffle(order)
    url = queue_url()

    # As at a deployment: the pages' {% static %} tags need the manifest (DEBUG is off).
    call_command("collectstatic", interactive=False, verbosity=0)
    template = engines["django"].from_string(FALLBACK_TEMPLATE)

    def render_queue(rep) -> int:
        items = list(queue_for(rep)[:PAGE_ROWS])
        return len(template.render({"items": items}))

    one, measured = (
        render_queue,
        "sdr.queue.queue_for(rep)[:QUEUE_PAGE] evaluated and rendered with a bench template",
    )
    if url is None:
        measured += " (fallback: no URL named sdr:queue yet)"
    else:
        # One client, like one server process (a Client loads the middleware on its first
        # request, WhiteNoise scanning the static files: once per process in production), each
        # request carrying the session cookie of the rep it is for.
        sessions = {}
        for rep in reps:
            login = Client()
            login.force_login(rep)
            sessions[rep.pk] = login.cookies[settings.SESSION_COOKIE_NAME].value
        client = Client(HTTP_HOST="127.0.0.1")

        def get_page(rep) -> int:
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[rep.pk]
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code} for {rep}")
            return len(response.content)

        def probe(rep) -> None:
            first = queue_for(rep).first()
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[rep.pk]
            body = client.get(url).content.decode()
            if first is None or first.subject is None or first.subject.last_name not in body:
                raise RuntimeError(f"{url} does not show {rep}'s first item")

        try:
            get_page(reps[0])
            probe(reps[1])
        except Exception as exc:  # the page is being built: measure what it will render
            reason = f"{type(exc).__name__}: {exc}"
            log(f"queues: WARNING: GET {url} failed ({reason}); measuring the fallback")
            measured += f" (fallback: GET {url} failed with {reason[:200]})"
        else:
            one, measured = (
                get_page,
                f"GET {url} (URL sdr:queue) through the test Client in process, logged in",
            )

    log(f"queues: page: {measured}")
    for rep in reps[:QUEUE_WARMUP]:
        one(rep)
    ms = time_requests(one, order)

    queries: list[int] = []
    queue_queries: list[int] = []
    statements: list[str] = []
    for rep in reps[:QUERY_COUNT_SAMPLE]:
        with CaptureQueriesContext(connection) as captured:
            one(rep)
        queries.append(len(captured))
        queue_queries.append(sum(1 for q in captured if _is_queue_query(q["sql"])))
        if not statements:
            statements = [abridge(q["sql"]) for q in captured]
    orm_ms, sql_ms, sizes = _orm_and_sql(reps, order)

    # The longest page: a rep whose queue is longer than the page shows (a follow-up on
    # every working lead), for a few reps, put back afterwards.
    full_reps = reps[:FULL_QUEUE_REPS]
    with connect() as conn:
        conn.execute(
            FULL_QUEUE_SQL,
            {"reps": [r.pk for r in full_reps], "marker": FULL_QUEUE_MARKER, "ct": data.lead_ct},
        )
        conn.execute("VACUUM ANALYZE work_workitem")
    full_order = [full_reps[n % len(full_reps)] for n in range(FULL_QUEUE_REQUESTS)]
    for rep in full_reps:
        one(rep)
    full_ms = time_requests(one, full_order)
    _, full_sql_ms, full_sizes = _orm_and_sql(full_reps, full_order)
    with connect() as conn:
        conn.execute("DELETE FROM work_workitem WHERE title = %s", [FULL_QUEUE_MARKER])
        conn.execute("VACUUM ANALYZE work_workitem")
    return QueuePage(
        measured=measured,
        requests=len(ms),
        reps=len({r.pk for r in order}),
        ms=ms,
        queries=queries,
        queue_queries=queue_queries,
        statements=statements,
        items_per_page=statistics.mean(sizes),
        orm_ms=orm_ms,
        sql_ms=sql_ms,
        full_items=min(full_sizes),
        full_ms=full_ms,
        full_sql_ms=full_sql_ms,
    )


def _orm_and_sql(reps, order) -> tuple[list[float], list[float], list[int]]:
    """``queue_for()`` evaluated alone per rep (ms), then the baseline: the two statements it
    sends (the items, then their leads), exactly as compiled, through a cursor, in ``order``
    (ms); and the queue sizes."""
    from django.db import connection

    from leads.models import Lead
    from sdr.queue import queue_for
    from sdr.views import QUEUE_PAGE as PAGE_ROWS  # the rows the page shows

    orm_ms, sql_ms, sizes, compiled = [], [], [], {}
    for rep in reps:
        start = time_ns()
        items = list(queue_for(rep)[:PAGE_ROWS])
        orm_ms.append((time_ns() - start) / 1e6)
        sizes.append(len(items))
        item_sql = queue_for(rep)[:PAGE_ROWS].query.sql_with_params()
        lead_sql = (
            Lead.objects.select_related("campaign")
            .filter(pk__in=[i.object_id for i in items])
            .query.sql_with_params()
        )
        compiled[rep.pk] = (item_sql, lead_sql)
    with connection.cursor() as cursor:
        for rep in reps[:QUEUE_WARMUP]:
            for sql, params in compiled[rep.pk]:
                cursor.execute(sql, params)
                cursor.fetchall()
        for rep in order:
            start = time_ns()
            for sql, params in compiled[rep.pk]:
                cursor.execute(sql, params)
                cursor.fetchall()
            sql_ms.append((time_ns() - start) / 1e6)
    return orm_ms, sql_ms, sizes
