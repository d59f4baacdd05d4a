"""The breach sweep measured with 1% of the open timers due and with none, beside an
``UPDATE ... RETURNING`` feeding an ``INSERT``."""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..env import connect
from ..plans import abridge
from ..timing import StatementTimer, Timer
from .data import DataSet

SWEEP_REPEATS = 5

SWEEP_BASELINE_SQL = """
WITH marked AS (
    UPDATE work_workitem SET breached_at = %(now)s
    WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL AND due_at <= %(now)s
    RETURNING id, policy_id, owner_id, team_id, due_at
)
INSERT INTO work_breach (work_item_id, policy_id, owner_id, team_id, due_at, detected_at, escalation,
                         escalated_at, note)
SELECT id, policy_id, owner_id, team_id, due_at, %(now)s, 'sent', %(now)s, '' FROM marked
"""


@dataclass
class SweepCase:
    due: int
    open_timers: int
    seconds: list[float]
    baseline_seconds: list[float]
    breached: int
    escalated: int
    reassigned: int
    statements: list[tuple[str, float]]  # (statement, ms) of one traced run

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def baseline_median_ms(self) -> float:
        return statistics.median(self.baseline_seconds) * 1000

    @property
    def ratio(self) -> float:
        return self.median_ms / max(self.baseline_median_ms, 1e-6)


def _reset_sweep(data: DataSet) -> None:
    with connect() as conn:
        conn.execute("DELETE FROM work_breach WHERE detected_at = %s", [data.sweep_at])
        conn.execute("UPDATE work_workitem SET breached_at = NULL WHERE breached_at = %s", [data.sweep_at])
        conn.execute("VACUUM ANALYZE work_workitem")
        conn.execute("VACUUM ANALYZE work_breach")


def _sweep_case(data: DataSet, at: datetime, expected: int) -> SweepCase:
    from django.core import mail
    from django.test.utils import override_settings

    from work.services import sweep_breaches

    seconds, baseline, result = [], [], None
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for _ in range(SWEEP_REPEATS):
            _reset_sweep(data)
            mail.outbox = []
            with Timer() as timer:
                result = sweep_breaches(now=at)
            seconds.append(timer.seconds)
            if result.breached != expected or result.escalated != expected or len(mail.outbox) != expected:
                raise RuntimeError(
                    f"the sweep at {at} did {result}, {len(mail.outbox)} mails; expected {expected}"
                )
        # One more, traced: each statement and the time its execute() took (a round trip).
        _reset_sweep(data)
        with StatementTimer() as timed:
            sweep_breaches(now=at)
        statements = [(abridge(sql, 90), ms) for sql, ms in timed.timed]
    with connect() as conn:
        for _ in range(SWEEP_REPEATS):
            _reset_sweep(data)
            with Timer() as timer:
                rows = conn.execute(SWEEP_BASELINE_SQL, {"now": at}).rowcount
            baseline.append(timer.seconds)
            if rows != expected:
                raise RuntimeError(f"the baseline marked {rows} timers, expected {expected}")
    _reset_sweep(data)
    assert result is not None  # SWEEP_REPEATS runs at least once
    return SweepCase(
        due=expected,
        open_timers=data.counts["open_timers"],
        seconds=seconds,
        baseline_seconds=baseline,
        breached=result.breached,
        escalated=result.escalated,
        reassigned=result.reassigned,
        statements=statements,
    )


def measure_sweeps(data: DataSet) -> tuple[SweepCase, SweepCase]:
    """The sweep at the instant when 1% of the open timers are due, then two hours earlier,
    when none is (the idle minute)."""
    due = _sweep_case(data, data.sweep_at, data.counts["due_at_sweep"])
    idle = _sweep_case(data, data.sweep_at - timedelta(hours=2), 0)
    return due, idle
