"""The lead-fact rollup measured: ``rebuild()`` over every lead, ``refresh()`` idle and after
typical writes, and what the rollup costs each write."""

import gc
from dataclasses import dataclass, field
from time import perf_counter_ns as time_ns

from ..env import connect, scalar
from ..plans import abridge, cut
from ..timing import StatementTimer, Timer
from .data import DataSet

WRITES = (100, 1_000)
IDLE_REFRESHES = 3


@dataclass
class Refresh:
    writes: int  # leads changed before the refresh (0: idle)
    ms: float
    refreshed: int  # what refresh() returned

    @property
    def ms_per_lead(self) -> float | None:
        return self.ms / self.writes if self.writes else None


@dataclass
class FactsCost:
    available: bool
    note: str = ""
    rebuild_seconds: float = 0.0
    rebuilt: int = 0
    facts: int = 0  # rows in insight_leadfact after the rebuild
    idle: list[Refresh] = field(default_factory=list)
    after_writes: list[Refresh] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)  # one log_touch each
    write_statements: list[int] = field(default_factory=list)
    write_insight_statements: list[int] = field(default_factory=list)
    idle_statements: list[tuple[str, float]] = field(default_factory=list)  # (statement, ms), slowest first
    idle_plan: str = ""  # EXPLAIN (ANALYZE, BUFFERS) of the idle refresh's slowest statement


def _facts_count() -> int:
    with connect() as conn:
        return scalar(conn, "SELECT count(*) FROM insight_leadfact")


def writable_leads(data: DataSet, count: int, used: set[int]) -> list[tuple[int, int]]:
    """``count`` (lead, SDR) pairs, half open MQLs (their first touch), half working leads."""
    with connect() as conn:
        rows = []
        for status, k in (("mql", count // 2), ("working", count - count // 2)):
            rows += conn.execute(
                """SELECT id, owner_id FROM leads_lead
                   WHERE status = %s AND owner_id IS NOT NULL AND NOT (id = ANY(%s))
                   ORDER BY hashint8(id), id LIMIT %s""",
                [status, list(used), k],
            ).fetchall()
    used.update(r[0] for r in rows)
    return [tuple(r) for r in rows]


def _explain_one(sql: str, params) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement, in a transaction rolled back (it may write)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        try:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
        except Exception as exc:  # a statement that needs its session's temporary table
            plan = f"(not explained: {type(exc).__name__}: {str(exc)[:200]})"
        transaction.set_rollback(True)
    return plan


def measure_facts(data: DataSet, log=print) -> FactsCost:
    from insight import facts
    from sdr.services import log_touch
    from team.models import User

    with Timer() as timer:
        rebuilt = facts.rebuild()
    cost = FactsCost(available=True, rebuild_seconds=timer.seconds, rebuilt=rebuilt, facts=_facts_count())
    log(f"insight: rebuild() {timer.seconds:.1f} s, returned {rebuilt:,}, {cost.facts:,} facts")
    if cost.facts == 0:
        cost.available = False
        cost.note = "insight.facts.rebuild() wrote no facts (not implemented yet)"
        log(f"insight: WARNING: {cost.note}")
    with connect() as conn:
        conn.execute("VACUUM ANALYZE insight_leadfact")

    for _ in range(IDLE_REFRESHES):
        with Timer() as timer:
            refreshed = facts.refresh()
        cost.idle.append(Refresh(0, timer.seconds * 1000, refreshed))
    # One more, traced: where an idle minute's refresh spends its time.
    with StatementTimer() as traced:
        facts.refresh()
    cost.idle_statements = sorted(
        ((abridge(sql, 200), ms) for sql, _, ms in traced.statements), key=lambda t: -t[1]
    )
    if traced.statements:
        sql, params, _ = max(traced.statements, key=lambda t: t[2])
        cost.idle_plan = _explain_one(sql, params)
    log(f"insight: refresh() with nothing changed: {', '.join(f'{r.ms:.1f}' for r in cost.idle)} ms")

    users = {u.pk: u for u in User.objects.filter(pk__in=data.reps)}
    used: set[int] = set()
    for n in WRITES:
        pairs = writable_leads(data, n, used)
        gc.collect()
        for lead, sdr in pairs:
            with StatementTimer() as traced:
                start = time_ns()
                log_touch(lead_id=lead, by=users[sdr], kind="call", outcome="connected")
                cost.write_ms.append((time_ns() - start) / 1e6)
            cost.write_statements.append(len(traced.statements))
            cost.write_insight_statements.append(
                sum(1 for sql, _, _ in traced.statements if "insight_" in sql)
            )
        with Timer() as timer:
            refreshed = facts.refresh()
        cost.after_writes.append(Refresh(len(pairs), timer.seconds * 1000, refreshed))
        log(
            f"insight: {len(pairs):,} log_touch writes, then refresh() {timer.seconds * 1000:.0f} ms"
            f" ({timer.seconds * 1000 / len(pairs):.2f} ms per changed lead), returned {refreshed:,}"
        )
    with connect() as conn:
        for table in ("insight_leadfact", "leads_lead", "leads_activity", "leads_leadevent", "work_workitem"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return cost
