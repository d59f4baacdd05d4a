"""Figure ``dedupe``: the person duplicate finder over a million leads.

Generated leads (200 first names x 1,000 last names, 20,000 companies written with and without a
legal suffix, 70% with a phone of their own, 200 sharing one switchboard number) and 1% planted
duplicates of random leads under another email, a third of each kind: the same name at the same
company written another way ("COMPANY 17 GmbH" for "Company 17 Inc."), the same phone written
another way under another name, the same name at the same email domain with no company. The
leads were written a day ago (their ``updated_at``), as leads mostly were.

The finder groups stored keys (``dedupe.keys``): their first build over every lead is timed
(``dedupe.people.refresh(full=True)``, then ``VACUUM ANALYZE`` of the key table, as autovacuum
would do after it), then the finder (``dedupe.people.find_people``, what the page runs: the keys of
the leads written since the last refresh refreshed, then the grouping) beside its grouping
statement run bare through a cursor and beside the plainest set-based grouping (exact lower-case
name and company, no normalisation). The refresh is timed with nothing written since the last one
and after ``EDITED`` leads were edited (a field that is not a key: their keys are recomputed,
none changes), which is the step a page view takes before grouping. Recall is the planted pairs found; precision the share of the pairs
found that were planted (the rest are generated people who share a name and a company by
chance, or the switchboard's group, reported as a group). The page ``/duplicates/people/`` is
requested as a marketing user: page 1 computing the pairs, then page 2 from the cache (server time
and queries).
"""

import statistics
from dataclasses import dataclass, field

from .env import connect, one_row
from .timing import Timer

PLANTED_SHARE = 100  # one planted duplicate per this many leads
EDITED = 1_000  # leads edited before the incremental refresh is timed
SWITCHBOARD = 5_000  # one lead in this many shares the switchboard number
RUNS = 3

GENERATE_SQL = """
WITH g AS (
    SELECT i, floor(random() * 200)::int AS f, floor(random() * 1000)::int AS l,
           floor(random() * 20000)::int AS c, floor(random() * 4)::int AS s
      FROM generate_series(1, %(n)s::bigint) AS i
)
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, country, phone, source,
    status, status_reason, hand_raiser, rating, fit_score, fit_grade, engagement_key, external_id,
    external_system, external_status, source_attributes, first_seen_at, captured_at,
    status_changed_at, updated_at
)
SELECT i, 'lead' || i || '@c' || c || '.example', 'First' || f, 'Last' || l,
       'Company ' || c || (ARRAY['', ' Inc.', ' GmbH', ' Ltd'])[1 + s], '', '', '', '',
       CASE WHEN i %% %(switchboard)s = 7 THEN '+1 800 555 0100'
            WHEN i %% 10 < 7 THEN '+1 555 ' || lpad(i::text, 7, '0') ELSE '' END,
       'web', 'nurture', '', false, '', 0, 'D', %(no_engagement)s, '', '', '', '{}',
       now(), now(), now(), now() - interval '1 day'
  FROM g
"""

# Planted duplicate j copies lead ``source`` (distinct for each j: 7919 is prime to n).
PLANT_SQL = """
WITH p AS (
    SELECT j, ((j * 7919) %% %(n)s) + 1 AS source FROM generate_series(1, %(m)s::bigint) AS j
), k AS (
    SELECT p.j, l.*,
           CASE WHEN p.j %% 3 = 1 AND l.phone LIKE '+1 555 %%' THEN 'phone'
                WHEN p.j %% 3 = 2 THEN 'domain' ELSE 'company' END AS how
      FROM p JOIN leads_lead l ON l.id = p.source
)
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, country, phone, source,
    status, status_reason, hand_raiser, rating, fit_score, fit_grade, engagement_key, external_id,
    external_system, external_status, source_attributes, first_seen_at, captured_at,
    status_changed_at, updated_at
)
SELECT %(n)s + j,
       CASE how WHEN 'domain' THEN 'other' || j || '@' || split_part(email, '@', 2)
                ELSE 'dup' || j || '@gmail.com' END,
       CASE how WHEN 'phone' THEN 'Someone' || j ELSE upper(first_name) END,
       last_name,
       CASE how WHEN 'company' THEN upper(split_part(company, ' ', 1) || ' ' || split_part(company, ' ', 2)) || ', S.A.'
                WHEN 'phone' THEN 'Elsewhere ' || j ELSE '' END,
       '', '', '', '',
       CASE how WHEN 'phone' THEN '(555) ' || substr(phone, 8, 3) || '-' || substr(phone, 11, 4) ELSE '' END,
       'web', 'nurture', '', false, '', 0, 'D', %(no_engagement)s, '', '', '', '{}',
       now(), now(), now(), now() - interval '1 day'
  FROM k
RETURNING CASE WHEN phone <> '' THEN 'phone' WHEN company = '' THEN 'domain' ELSE 'company' END
"""

BASELINE_SQL = """
SELECT count(*) FROM (
    SELECT lower(first_name), lower(last_name), lower(company) FROM leads_lead
     GROUP BY 1, 2, 3 HAVING count(*) > 1
) AS g
"""


@dataclass
class DedupeFigures:
    leads: int
    planted: int
    planted_by_rule: dict[str, int]
    generate_seconds: float
    build_seconds: float = 0.0  # the keys of every lead, first computed
    refresh_idle_seconds: float = 0.0  # the refresh with nothing written since the last one
    refresh_edited_seconds: float = 0.0  # the refresh after EDITED leads were edited
    refreshed_changed: int = 0
    finder_seconds: list[float] = field(default_factory=list)
    bare_seconds: list[float] = field(default_factory=list)
    baseline_seconds: list[float] = field(default_factory=list)
    pairs: int = 0
    groups: int = 0
    planted_found: int = 0
    page_ms: float = 0.0  # page 2, the pairs cached by the first request
    page_cold_ms: float = 0.0  # page 1, computing the pairs
    page_queries: int = 0
    page_status: int = 0

    @property
    def finder_median(self) -> float:
        return statistics.median(self.finder_seconds)

    @property
    def bare_median(self) -> float:
        return statistics.median(self.bare_seconds)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_seconds)

    @property
    def recall(self) -> float:
        return self.planted_found / self.planted if self.planted else 0.0

    @property
    def precision(self) -> float:
        return self.planted_found / self.pairs if self.pairs else 0.0


def generate(n: int) -> tuple[int, dict[str, int], float]:
    """Replace the leads with ``n`` generated ones and ``n / PLANTED_SHARE`` planted
    duplicates; returns (planted, planted per rule, seconds)."""
    from leads.models import NO_ENGAGEMENT

    from .csv_import import LEAD_TABLES

    m = n // PLANTED_SHARE
    params = {"n": n, "m": m, "switchboard": SWITCHBOARD, "no_engagement": NO_ENGAGEMENT}
    with connect() as conn, Timer() as timer:
        conn.execute(f"TRUNCATE {LEAD_TABLES} RESTART IDENTITY CASCADE")
        conn.execute("SELECT setseed(0.42)")
        conn.execute(GENERATE_SQL, params)
        planted = conn.execute(PLANT_SQL, params).fetchall()
        conn.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s)", [n + m])
        conn.execute("VACUUM ANALYZE leads_lead")
    by_rule: dict[str, int] = {}
    for (how,) in planted:
        by_rule[how] = by_rule.get(how, 0) + 1
    return len(planted), by_rule, timer.seconds


def measure(n: int, log=print) -> DedupeFigures:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dedupe.people import FINDER_WORK_MEM, find_people, finder_sql, refresh
    from team.models import User

    log(f"dedupe: generating {n:,} leads and {n // PLANTED_SHARE:,} planted duplicates")
    planted, by_rule, seconds = generate(n)
    figures = DedupeFigures(
        leads=n + planted, planted=planted, planted_by_rule=by_rule, generate_seconds=seconds
    )
    log(f"dedupe: generated in {seconds:.1f} s ({by_rule})")

    with Timer() as timer:
        built = refresh(full=True)
    figures.build_seconds = timer.seconds
    with connect() as conn:
        conn.execute("VACUUM ANALYZE dedupe_leadkey")
    log(f"dedupe: the keys of {built.changed:,} leads built in {timer.seconds:.1f} s")

    found = None
    for _ in range(RUNS):
        with Timer() as timer:
            found = find_people()
        figures.finder_seconds.append(timer.seconds)
        sql, params = finder_sql()
        with connect() as conn, Timer() as timer, conn.transaction():
            conn.execute(f"SET LOCAL work_mem = '{FINDER_WORK_MEM}'")
            conn.execute(sql, params).fetchall()
        figures.bare_seconds.append(timer.seconds)
        with connect() as conn, Timer() as timer:
            one_row(conn, BASELINE_SQL)
        figures.baseline_seconds.append(timer.seconds)
    assert found is not None
    planted_pairs = {(j * 7919 % n + 1, n + j) for j in range(1, planted + 1)}
    figures.pairs, figures.groups = len(found.pairs), len(found.groups)
    figures.planted_found = sum((p.first_id, p.second_id) in planted_pairs for p in found.pairs)
    log(
        f"dedupe: finder median {figures.finder_median:.2f} s (bare grouping statement {figures.bare_median:.2f} s,"
        f" plain GROUP BY {figures.baseline_median:.2f} s); {figures.pairs:,} pairs, {figures.groups} groups;"
        f" recall {figures.recall:.1%}, precision {figures.precision:.1%}"
    )

    with Timer() as timer:
        refresh()
    figures.refresh_idle_seconds = timer.seconds
    with connect() as conn:
        conn.execute(
            "UPDATE leads_lead SET title = 'Edited', updated_at = now() WHERE id %% %s = 3", [n // EDITED]
        )
    with Timer() as timer:
        edited = refresh()
    figures.refresh_edited_seconds, figures.refreshed_changed = timer.seconds, edited.changed
    log(
        f"dedupe: refresh {figures.refresh_idle_seconds * 1000:.0f} ms with nothing written,"
        f" {figures.refresh_edited_seconds * 1000:.0f} ms after {EDITED:,} leads were edited"
        f" ({edited.changed} keys changed)"
    )

    call_command("collectstatic", interactive=False, verbosity=0)
    person = User.objects.filter(role="marketing").order_by("pk").first() or User.objects.create(
        username="bench-dedupe", role="marketing"
    )
    login = Client()
    login.force_login(person)
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = login.cookies[settings.SESSION_COOKIE_NAME].value
    from django.core.cache import cache

    cache.clear()
    with Timer() as cold:
        client.get("/duplicates/people/")
    figures.page_cold_ms = cold.seconds * 1000
    with CaptureQueriesContext(connection) as captured, Timer() as timer:
        response = client.get("/duplicates/people/", {"page": 2})
    figures.page_ms, figures.page_queries = timer.seconds * 1000, len(captured.captured_queries)
    figures.page_status = response.status_code
    log(
        f"dedupe: page {figures.page_cold_ms:.0f} ms computing the pairs, then {figures.page_ms:.0f} ms from the"
        f" cache, {figures.page_queries} queries, status {response.status_code}"
    )
    return figures
