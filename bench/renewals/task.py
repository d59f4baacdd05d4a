"""The daily renewal task measured: day by day, nothing due, two processes at once (and the
worker each of them runs), the plans of its claims."""

import gc
import json
import os
import subprocess
import sys
import time as wall
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from time import perf_counter_ns as time_ns

from ..env import BASE_DIR, PYTHON, connect, scalar
from ..plans import abridge, cut, seq_scan
from ..timing import StatementTimer, Timer, statement_kinds
from .data import BIG_TABLES, CLAIM_INDEX, IDLE_REPEATS, PARALLEL, DataSet, at, check_done, due_on


@dataclass
class TaskRun:
    """One run of ``run_renewals``: what it did, its time and its statements."""

    label: str
    day: date
    seconds: float
    statements: int
    opened: int
    reminded: int
    skipped: int
    auto_renewed: int
    emails: int
    kinds: dict[str, list] = field(default_factory=dict)  # statement kind -> [count, ms]

    @property
    def ms(self) -> float:
        return self.seconds * 1000

    @property
    def windows(self) -> int:
        return self.opened + self.reminded + self.skipped


@dataclass
class Concurrent:
    day: date
    seconds: float  # wall time from the first start to the last end
    runs: list[dict]  # each process: seconds, counts, statements
    expected: dict[str, int]  # what one run had to do (counted before)
    steps: dict[str, int]  # steps written at that instant, by window
    items: dict[str, int]  # items created at that instant, by kind
    duplicates: int  # (contract, kind) pairs with more than one item created at that instant

    @property
    def totals(self) -> dict[str, int]:
        keys = ("opened", "reminded", "skipped", "auto_renewed", "emails")
        return {k: sum(r["counts"][k] for r in self.runs) for k in keys}

    @property
    def exactly_once(self) -> bool:
        t = self.totals
        return (
            self.duplicates == 0
            and t["opened"] == self.expected["start"] == self.steps.get("start", 0)
            and t["reminded"] + t["skipped"] == self.expected["reminder"] == self.steps.get("reminder", 0)
            and t["auto_renewed"] == self.expected["auto_renew"]
            and self.items.get("renewal_start", 0) == t["opened"]
            and self.items.get("renewal_reminder", 0) == t["reminded"]
        )


def run_task(label: str, day: date) -> TaskRun:
    """``run_renewals`` at ``day``'s run time, timed, its statements counted (an execute
    wrapper: a clock read and a list append per statement), emails to locmem."""
    from django.core import mail
    from django.test.utils import override_settings

    from renewals.services import run_renewals

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        mail.outbox = []
        gc.collect()
        with StatementTimer() as traced, Timer() as timer:
            run = run_renewals(now=at(day))
        emails = len(mail.outbox)
        mail.outbox = []
    if emails != run.emails:
        raise RuntimeError(f"the run on {day} said {run.emails} emails, the outbox holds {emails}")
    return TaskRun(
        label=label,
        day=day,
        seconds=timer.seconds,
        statements=len(traced.statements),
        opened=len(run.opened),
        reminded=len(run.reminded),
        skipped=len(run.skipped),
        auto_renewed=len(run.auto_renewed),
        emails=run.emails,
        kinds=statement_kinds(traced.statements),
    )


def measure_days(data: DataSet, days: int, log=print) -> list[TaskRun]:
    runs = []
    for k in range(days):
        day = data.today + timedelta(days=k)
        run = run_task(f"day {k + 1}", day)
        check_done(data, day)
        runs.append(run)
        log(
            f"renewals: {day} {run.ms:,.0f} ms, {run.statements} statements: opened {run.opened},"
            f" reminded {run.reminded}, skipped {run.skipped}, auto-renewed {run.auto_renewed}, {run.emails} emails"
        )
    return runs


def measure_idle(day: date) -> list[TaskRun]:
    runs = [run_task("nothing due", day) for _ in range(IDLE_REPEATS)]
    if any(r.windows or r.auto_renewed for r in runs):
        raise RuntimeError(f"re-running {day} did work: {[r.windows for r in runs]}")
    return runs


def measure_concurrent(data: DataSet, day: date) -> Concurrent:
    """``PARALLEL`` processes run the task for ``day`` at once, started together once all are
    ready; then what was written at that instant is counted."""
    expected = due_on(data, day)
    env = os.environ | {"EMAIL_URL": "memorymail://"}
    workers = [
        subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.renewals",
                "run",
                at(day).isoformat(),
                at(day - timedelta(days=1)).isoformat(),
            ],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PARALLEL)
    ]
    for worker in workers:
        assert worker.stdout is not None  # piped above
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("a renewals worker did not start")
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = []
    for worker in workers:
        out, _ = worker.communicate()
        if worker.returncode:
            raise RuntimeError(f"a renewals worker failed ({worker.returncode})")
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    check_done(data, day)
    with connect() as conn:
        steps: dict[str, int] = dict(
            conn.execute(
                "SELECT step, count(*) FROM renewals_renewalstep WHERE done_at = %s GROUP BY step", [at(day)]
            ).fetchall()
        )
        items: dict[str, int] = dict(
            conn.execute(
                "SELECT kind, count(*) FROM work_workitem WHERE content_type_id = %s AND created_at = %s"
                " GROUP BY kind",
                [data.contract_ct, at(day)],
            ).fetchall()
        )
        duplicates = scalar(
            conn,
            """SELECT count(*) FROM (SELECT object_id, kind FROM work_workitem
               WHERE content_type_id = %s AND created_at = %s GROUP BY object_id, kind HAVING count(*) > 1) d""",
            [data.contract_ct, at(day)],
        )
    return Concurrent(
        day=day,
        seconds=max(o["end"] for o in outputs) - min(o["start"] for o in outputs),
        runs=outputs,
        expected=expected,
        steps=steps,
        items=items,
        duplicates=duplicates,
    )


def plans(day: date) -> tuple[dict[str, str], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements a run on ``day`` sends that read the
    contracts by end date (both claims and the auto-renewal batch): the run is captured in a
    transaction rolled back, then each statement explained in another, rolled back too."""
    from django.core import mail
    from django.db import connection, transaction
    from django.test.utils import override_settings

    from renewals.services import run_renewals

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with transaction.atomic(), StatementTimer() as captured:
            run_renewals(now=at(day))
            transaction.set_rollback(True)
        mail.outbox = []
    wanted, seen = [], set()
    for sql, params, _ in captured.statements:
        text = " ".join(sql.split())
        if "renewals_contract" not in text or "end_date" not in text:
            continue
        if text.startswith("INSERT INTO renewals_renewalstep"):
            name = "claim, " + ("reminder window" if "'start')" in text else "start window")
        elif text.startswith("SELECT") and "SKIP LOCKED" in text and '"auto_renew"' in text:
            name = "auto-renewal batch (SELECT ... FOR UPDATE SKIP LOCKED)"
        else:
            continue
        if name not in seen:
            seen.add(name)
            wanted.append((name, sql, params))
    out, problems = {}, []
    for name, sql, params in wanted:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
            transaction.set_rollback(True)
        out[f"{name}: {abridge(sql, 150)}"] = plan
        if CLAIM_INDEX not in plan:
            problems.append(f"{name} does not use {CLAIM_INDEX}")
        for table in BIG_TABLES:
            if seq_scan(plan, table):
                problems.append(f"{name} reads {table} with a sequential scan")
    if not any(name.startswith("claim") for name, _, _ in wanted):
        problems.append("no claim statement was captured")
    return out, problems


def worker_main(when: str, warm: str) -> None:
    """One of the concurrent processes: warm up as a long-lived Celery worker would be (the
    task run for ``warm``, a day already done: it must find nothing), "ready", wait for "go",
    run the task for ``when``, one JSON line."""
    import django

    django.setup()
    from renewals.services import run_renewals

    now = datetime.fromisoformat(when)
    idle = run_renewals(now=datetime.fromisoformat(warm)).as_dict()
    if any(idle.values()):
        sys.exit(f"the warm-up run on {warm} did work: {idle}")
    print("ready", flush=True)
    sys.stdin.readline()
    start = wall.time()
    t = time_ns()
    with StatementTimer() as traced:
        run = run_renewals(now=now)
    seconds = (time_ns() - t) / 1e9
    print(
        json.dumps(
            {
                "start": start,
                "end": wall.time(),
                "seconds": seconds,
                "counts": run.as_dict(),
                "statements": len(traced.statements),
            }
        ),
        flush=True,
    )
