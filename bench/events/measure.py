"""The statements that read the events and activities tables, measured at the data set's
size: the lead page's timeline, the queue's last touch, the nurture sweep, the insight facts'
watermarks and incremental refresh, and the nightly rebuild. Each statement is the one the
code issues (built by the ORM or by ``insight.facts``), run under ``EXPLAIN (ANALYZE,
BUFFERS)``: its execution time, planning time and the buffers it touched (hit + read: robust
to load, unlike times).

Run with DJANGO_SETTINGS_MODULE and DATABASE_URL set to the data set's database.
"""

import json
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import django

django.setup()

from django.db import connection  # noqa: E402

from insight.facts.watermarks import changed_leads_sql  # noqa: E402
from insight.models import RefreshState  # noqa: E402
from leads.models import TOUCH_KINDS, Activity, Lead, LeadEvent  # noqa: E402

NOW = datetime(2026, 12, 7, tzinfo=UTC)


# "leads_leadevent=leads_leadevent_p,...": the statements read these tables instead (the
# partitioned copies), without renaming anything.
TABLES = dict(pair.split("=") for pair in os.environ.get("EVENTS_TABLES", "").split(",") if pair)


MATCH = [m for m in os.environ.get("MATCH", "").split(",") if m]  # only the statements naming one


def wanted(name: str) -> bool:
    return not MATCH or any(m in name for m in MATCH)


def explain(sql: str, params) -> dict:
    for table, instead in TABLES.items():
        sql = re.sub(rf'"?\b{table}\b"?', instead, sql)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    top = plan["Plan"]
    return {
        "ms": plan["Execution Time"],
        "plan_ms": plan["Planning Time"],
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "read": top.get("Shared Read Blocks", 0),
        "plan": plan,
    }


def nodes(plan: dict) -> list[str]:
    """The plan's scan nodes, e.g. 'Index Scan event_lead_time' (and how many partitions)."""
    found: list[str] = []

    def walk(node: dict) -> None:
        if "Scan" in node["Node Type"] and "Relation Name" in node:
            name = node.get("Index Name", node["Relation Name"])
            found.append(f"{node['Node Type']} {re.sub(r'_p_[0-9]{6}', '_p_<month>', name)}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    counts: dict[str, int] = {}
    for name in found:
        counts[name] = counts.get(name, 0) + 1
    return [f"{name} x{n}" if n > 1 else name for name, n in counts.items()]


def summarise(name: str, runs: list[dict]) -> dict:
    times = sorted(r["ms"] for r in runs)
    result = {
        "statement": name,
        "runs": len(runs),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2),
        "plan_ms": round(statistics.median(r["plan_ms"] for r in runs), 2),
        "buffers": int(statistics.median(r["buffers"] for r in runs)),
        "read": int(statistics.median(r["read"] for r in runs)),
        "nodes": nodes(runs[0]["plan"]),
    }
    print(json.dumps(result), flush=True)
    return result


def sample_leads(n: int) -> list[int]:
    top = Lead.objects.order_by("-id").values_list("id", flat=True).first() or 1
    return [1 + (k * 7919 * 104729) % top for k in range(1, n + 1)]


def per_lead(leads: list[int]) -> list[dict]:
    out = []
    cases = {
        "timeline: events (lead page)": lambda pk: Lead(pk=pk).events.select_related("actor", "campaign")[
            :200
        ],
        "timeline: activities (lead page)": lambda pk: Lead(pk=pk).activities.select_related(
            "actor", "campaign"
        )[:200],
        "last touch (queue row, propensity)": lambda pk: (
            Activity.objects.filter(lead_id=pk, kind__in=TOUCH_KINDS)
            .order_by("-occurred_at", "-id")
            .values("occurred_at", "kind")[:1]
        ),
    }
    for name, make in cases.items():
        if not wanted(name):
            continue
        runs = []
        for pk in leads:
            sql, params = make(pk).query.sql_with_params()
            runs.append(explain(sql, params))
        out.append(summarise(name, runs))
    return out


def recent(repeat: int) -> list[dict]:
    out = []
    since, now = NOW - timedelta(days=2), NOW
    nurture = LeadEvent.objects.filter(
        kind=LeadEvent.Kind.STATUS, to_status=Lead.Status.NURTURE, at__gte=since, at__lte=now
    ).values_list("lead_id", flat=True)
    captured = LeadEvent.objects.filter(
        kind=LeadEvent.Kind.CAPTURED, to_status=Lead.Status.NURTURE, at__gte=since, at__lte=now
    ).values_list("lead_id", flat=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT MAX(id) FROM leads_leadevent), (SELECT MAX(id) FROM leads_activity)")
        event_max, activity_max = (v or 0 for v in cursor.fetchone())
    state = RefreshState(
        event_id=event_max - 1000,
        activity_id=activity_max - 1000,
        breach_id=0,
        opportunity_at=NOW,
        campaign_at=NOW,
    )
    changed_sql, changed_params = changed_leads_sql(state)
    cases = {
        "nurture sweep: entered nurture in 2 days (status)": nurture.query.sql_with_params(),
        "nurture sweep: entered nurture in 2 days (captured)": captured.query.sql_with_params(),
        "facts watermarks: MAX(id) of both": (
            "SELECT (SELECT MAX(id) FROM leads_leadevent), (SELECT MAX(id) FROM leads_activity)",
            [],
        ),
        "facts refresh: leads changed (last 1,000 ids of each)": (changed_sql, changed_params),
        "events of one month by time (kind, at)": (
            "SELECT count(*) FROM leads_leadevent WHERE kind = 'routed' AND at >= %s AND at < %s",
            [datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)],
        ),
    }
    for name, (sql, params) in cases.items():
        if not wanted(name):
            continue
        out.append(summarise(name, [explain(sql, params) for _ in range(repeat)]))
    return out


def facts_ctes() -> list[dict]:
    """The nightly rebuild's two big aggregates, over every row (what grows with the table)."""
    cases = {
        "rebuild: events aggregate (every lead)": """
            SELECT e.lead_id, MIN(CASE WHEN e.kind = 'hand_raised' OR (e.kind IN ('captured', 'status') AND e.to_status = 'mql') THEN e.at END),
                MIN(CASE WHEN e.kind = 'routed' THEN e.at END)
            FROM leads_leadevent e WHERE e.kind IN ('hand_raised', 'captured', 'status', 'routed') GROUP BY e.lead_id""",
        "rebuild: touches aggregate (every lead)": """
            SELECT a.lead_id, MIN(a.occurred_at), MAX(a.occurred_at) FROM leads_activity a
            WHERE a.kind IN ('call', 'email', 'voicemail', 'social', 'meeting_booked') AND a.source IN ('manual', 'email')
            GROUP BY a.lead_id""",
    }
    return [summarise(name, [explain(sql, [])]) for name, sql in cases.items()]


def rebuild() -> dict:
    """The nightly rebuild of every lead's fact (``insight.facts.rebuild``), timed."""
    from insight import facts

    started = time.perf_counter()
    written = facts.rebuild(now=NOW)
    result = {
        "statement": "facts rebuild (every lead)",
        "seconds": round(time.perf_counter() - started, 1),
        "written": written,
    }
    print(json.dumps(result), flush=True)
    return result


def refresh(leads: int = 1000) -> dict:
    """The minute's incremental refresh after ``leads`` leads each got a touch and a timeline
    line (what ``log_touch`` writes), timed: the watermarks, the changed leads and their facts."""
    from insight import facts

    facts.refresh(now=NOW)  # catch up first
    top = Lead.objects.order_by("-id").values_list("id", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO leads_activity (lead_id, kind, occurred_at, points, source, note, outcome)"
            " SELECT 1 + (k * 7919) %% %s, 'call', %s, 0, 'manual', '', 'connected' FROM generate_series(1, %s) k",
            [top, NOW, leads],
        )
        cursor.execute(
            "INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message)"
            " SELECT 1 + (k * 7919) %% %s, 'status', %s, '', 'mql', 'working', 'worked' FROM generate_series(1, %s) k",
            [top, NOW, leads],
        )
    started = time.perf_counter()
    written = facts.refresh(now=NOW)
    result = {
        "statement": f"facts refresh after {leads:,} leads touched",
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "written": written,
    }
    print(json.dumps(result), flush=True)
    return result


def sizes() -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relkind, c.reltuples::bigint, pg_relation_size(c.oid), pg_total_relation_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'i', 'I')
              AND (c.relname LIKE 'leads_leadevent%%' OR c.relname LIKE 'leads\\_activity\\_%%' OR c.relname = 'leads_activity'
                   OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (
                        SELECT oid FROM pg_class WHERE relname IN ('leads_leadevent', 'leads_activity', 'leads_leadevent_p'))))
            ORDER BY 1
            """
        )
        rows = [
            {"relation": r[0], "kind": r[1], "rows": r[2], "bytes": r[3], "total_bytes": r[4]}
            for r in cursor.fetchall()
        ]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    what = sys.argv[1:] or ["sizes", "per_lead", "recent"]
    started = time.perf_counter()
    results: dict = {}
    if "sizes" in what:
        results["sizes"] = sizes()
    if "per_lead" in what:
        results["per_lead"] = per_lead(sample_leads(40))
    if "recent" in what:
        results["recent"] = recent(5)
    if "rebuild" in what:
        results["rebuild"] = rebuild()
    if "refresh" in what:
        results["refresh"] = [refresh(), refresh()]
    if "ctes" in what:
        results["ctes"] = facts_ctes()
    print(f"# {time.perf_counter() - started:.1f} s", file=sys.stderr)
