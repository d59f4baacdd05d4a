"""The events data set: leads with their timeline (``leads_leadevent``) and activities
(``leads_activity``) spread over 36 months, written by ``INSERT ... SELECT FROM
generate_series`` in time order (ids rise with time, as in production, so one lead's rows are
scattered over the table as they would be after three years of use, not packed together).

The tables' indexes and foreign keys are dropped for the load and created again afterwards
(the build of each index is timed: it is what a re-index or a restore costs at that size).
Every value is derived from the lead id and the row number by fixed arithmetic: two runs
produce the same rows.
"""

import time
from datetime import UTC, datetime

import psycopg

NOW = datetime(2026, 12, 7, tzinfo=UTC)
MONTHS = 36

# A lead is captured 0 to 36 months before NOW, more of them recently (a growing business):
# its age is the full span times h^1.5 for h uniform in [0, 1).
LEADS_SQL = """
INSERT INTO leads_lead (
    id, email, first_name, last_name, company, title, seniority, industry, country, phone,
    source, status, status_reason, hand_raiser, rating, fit_score, fit_grade, engagement_key,
    external_id, external_status, external_system, source_attributes, first_seen_at,
    captured_at, mql_at, status_changed_at, updated_at
)
SELECT i, 'e' || i || '@c' || (i %% 50000) || '.example', 'Ada', 'Lead' || i,
    'Company ' || (i %% 50000), 'CTO', 'c_level', 'Software', 'US', '', 'web',
    (ARRAY['nurture', 'mql', 'working', 'handed_off', 'disqualified', 'nurture', 'recycled', 'nurture'])[1 + (i * 7) %% 8],
    '', false, '', (i * 13) %% 101, (ARRAY['A', 'B', 'C', 'D'])[1 + i %% 4], 0,
    '', '', '', '{}', cap, cap, NULL, cap, cap
FROM (
    SELECT i, %(now)s::timestamptz - %(span)s::interval * power(((i * 7919) %% 1000003) / 1000003.0, 1.5) AS cap
    FROM generate_series(1, %(leads)s::bigint) AS i
) g
"""

# Row j of lead i happens at capture + (NOW - capture) * f^2, f uniform: most of a lead's
# life is soon after its capture, a tail follows it to NOW.
_WHEN = "l.captured_at + (%(now)s::timestamptz - l.captured_at) * power(((l.id * 104729 + j * 7919) %% 10007) / 10007.0, 2)"

# About ``events`` per lead (events/2 to 3*events/2): the capture, then status changes (25%),
# details updated (30%), follow-ups, cadence steps, routing, ratings, handoffs.
EVENTS_SQL = f"""
INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message)
SELECT lead_id, kind, at, via, from_status, to_status, message FROM (
    SELECT l.id AS lead_id,
        CASE WHEN j = 1 THEN 'captured'
             WHEN (l.id * j) %% 97 = 0 THEN 'hand_raised'
             ELSE (ARRAY['status', 'status', 'status', 'status', 'status', 'routed',
                         'updated', 'updated', 'updated', 'updated', 'updated', 'updated',
                         'follow_up', 'follow_up', 'follow_up', 'cadence', 'cadence', 'cadence',
                         'rated', 'handoff'])[1 + (l.id + j * 13) %% 20] END AS kind,
        CASE WHEN j = 1 THEN l.captured_at ELSE {_WHEN} END AS at,
        CASE WHEN j = 1 THEN 'web_form' ELSE '' END AS via,
        CASE WHEN (l.id + j * 13) %% 20 < 5 THEN 'nurture' ELSE '' END AS from_status,
        CASE WHEN j = 1 THEN 'nurture' WHEN (l.id + j * 13) %% 20 < 5
             THEN (ARRAY['mql', 'working', 'nurture', 'handed_off', 'disqualified'])[1 + (l.id + j) %% 5]
             ELSE '' END AS to_status,
        'Event ' || j || ' of lead ' || l.id AS message
    FROM leads_lead l, generate_series(1, %(events)s / 2 + (l.id * 31) %% (%(events)s + 1)) AS j
) rows ORDER BY at
"""

# About ``activities`` per lead: the prospect's doings (web visits, email opens and clicks,
# downloads, forms, webinars) and the reps' touches (calls, emails, voicemails, social: 30%).
ACTIVITIES_SQL = f"""
INSERT INTO leads_activity (lead_id, kind, occurred_at, points, source, note, outcome)
SELECT lead_id, kind, occurred_at, points, source, note, outcome FROM (
    SELECT l.id AS lead_id, k.kind,
        {_WHEN} AS occurred_at,
        1.0 AS points,
        CASE WHEN k.kind = 'email' THEN 'email' WHEN k.kind IN ('call', 'voicemail', 'social') THEN 'manual'
             ELSE 'web_form' END AS source,
        '' AS note,
        CASE WHEN k.kind IN ('call', 'voicemail', 'social', 'email') THEN 'no_answer' ELSE '' END AS outcome
    FROM leads_lead l, generate_series(1, %(activities)s / 2 + (l.id * 17) %% (%(activities)s + 1)) AS j,
    LATERAL (SELECT (ARRAY['visit', 'visit', 'visit', 'visit', 'visit', 'visit', 'email_open', 'email_open',
                           'email_open', 'email_click', 'download', 'nurture_email', 'form_fill', 'webinar',
                           'call', 'call', 'email', 'email', 'voicemail', 'social'])[1 + (l.id * 3 + j * 7) %% 20]
            AS kind) k
) rows ORDER BY occurred_at
"""

TABLES = ("leads_leadevent", "leads_activity")


def _definitions(cursor: psycopg.Cursor, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The table's secondary indexes and its foreign keys (name, definition)."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    return indexes, cursor.fetchall()


def generate(
    dsn: str,
    leads: int,
    events: int,
    activities: int,
    steps=("leads", "events", "activities"),
    schema_dsn=None,
    log=print,
) -> dict[str, float]:
    """Write ``leads`` leads and about ``events`` events and ``activities`` activities each;
    return the seconds each step took (``index <name>`` for each index built). ``steps`` runs
    part of it (a long generation resumed); ``schema_dsn`` names a database migrated alike
    whose index and key definitions are re-created (when this one's were dropped already)."""
    timings: dict[str, float] = {}
    params = {
        "now": NOW,
        "span": f"{MONTHS * 365 // 12} days",
        "leads": leads,
        "events": events,
        "activities": activities,
    }
    saved = {}
    if schema_dsn:
        with psycopg.connect(schema_dsn) as conn, conn.cursor() as cursor:
            saved = {table: _definitions(cursor, table) for table in TABLES}
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("SET work_mem = '1GB'")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in TABLES:
            indexes, keys = _definitions(cursor, table)
            saved.setdefault(table, (indexes, keys))
            for name, _ in keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        for label, sql in (("leads", LEADS_SQL), ("events", EVENTS_SQL), ("activities", ACTIVITIES_SQL)):
            if label not in steps:
                continue
            started = time.perf_counter()
            cursor.execute(sql, params)
            timings[label] = time.perf_counter() - started
            log(f"{label}: {cursor.rowcount:,} rows in {timings[label]:.1f} s")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), (SELECT MAX(id) FROM leads_lead))"
        )
        for table in TABLES:
            indexes, keys = saved[table]
            for name, definition in indexes:
                started = time.perf_counter()
                cursor.execute(definition)
                timings[f"index {name}"] = time.perf_counter() - started
                log(f"index {name}: {timings[f'index {name}']:.1f} s")
            for name, definition in keys:
                # NOT VALID: enforced for every new row; the generated rows are correct by construction.
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition} NOT VALID")
            started = time.perf_counter()
            cursor.execute(f"VACUUM (ANALYZE) {table}")
            timings[f"vacuum {table}"] = time.perf_counter() - started
            log(f"vacuum analyze {table}: {timings[f'vacuum {table}']:.1f} s")
        cursor.execute("VACUUM (ANALYZE) leads_lead")
    return timings


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dsn")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--activities", type=int, default=60)
    parser.add_argument("--steps", default="leads,events,activities")
    parser.add_argument("--schema-from", default=None)
    args = parser.parse_args()
    generate(
        args.dsn,
        args.leads,
        args.events,
        args.activities,
        steps=tuple(args.steps.split(",")),
        schema_dsn=args.schema_from,
        log=lambda m: print(m, flush=True),
    )
