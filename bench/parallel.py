"""Figure 14: the parts that serialise, run by 1, 2, 4 and 8 processes at once (issue 18 §3).

More web processes and workers against one PostgreSQL and one Redis is the way past one
machine; this figure says how the parts that take a shared lock, or claim shared rows, behave
when several processes run them at the same instant. For each part the same total work is
done by 1, 2, 4 and 8 OS processes (fresh interpreters, ``django.setup()``, their own
connections, warmed up as a long-lived worker is; started together on a "go" once all are
ready), and the figure reports:

- the wall time from the first start to the last end, the throughput, and each process's
  share of the items (which process did the work);
- correctness: every item handled exactly once, counted in the database afterwards (no lead
  routed twice or left, no duplicate breach or escalation email, no renewal window opened
  twice, no email sent twice, every changed lead's fact written);
- lock waits: a sampler polls ``pg_stat_activity`` every 10 ms while the processes run and
  counts the backends waiting on a heavyweight lock, the statements waiting and the
  statements (and state) of the backends holding them: the statements that serialise.

The parts: routing (``route_leads`` in batches of 200, as captures in several web processes
call it, and the routing sweep ``route_waiting_leads`` run by every process at once), the
breach sweep (``sweep_breaches``), the daily renewal task (``run_renewals``), the email sender
(``mail.services.send_due`` to the SMTP server on loopback, eight mailboxes) and the insight
lead-fact refresh (``insight.facts.refresh``).

On a 2-core machine two processes can at best halve the wall time; four and eight measure
contention (and the CPU PostgreSQL needs too), not scaling: the figure keeps "correct under
concurrency" (every process count) apart from "scales" (the speed-up, meaningful up to the
cores). Data sets are small where a part's cost does not depend on table size: each claim
reads through an index from the due rows only (the queues and renewals figures check those
plans at full size), so 100,000 leads and 20,000 contracts measure the same per-item work as
a million, in minutes.

Run as a module (``python -m bench.parallel PART JSON``) it is one of the processes: it warms
up, says ``ready``, waits for ``go``, does the work and prints one JSON line."""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import perf_counter_ns as time_ns
from typing import Any

from .env import BASE_DIR, PYTHON, connect, one_row, scalar
from .plans import abridge
from .timing import StatementTimer

PROCESSES = (1, 2, 4, 8)
SAMPLE_SECONDS = 0.01
MAILBOXES = 8
TOP_STATEMENTS = 3


@dataclass
class ProcessRun:
    """What one process did: its clock (wall time, for the overlap), the items it handled,
    the service's counts, and its statements (count, and the time spent in ``execute()``)."""

    start: float
    end: float
    seconds: float
    cpu: float  # the process's own CPU seconds in the call (robust to a busy machine)
    done: int
    counts: dict
    statements: int
    db_ms: float


@dataclass
class Contention:
    ticks: int = 0  # sampler polls while the processes ran
    lock_waits: int = 0  # backend-samples waiting on a heavyweight lock
    active: int = 0  # backend-samples running a statement (waiting or not)
    events: dict[str, int] = field(default_factory=dict)  # "Lock:transactionid" -> backend-samples
    waiting: list[tuple[str, int]] = field(default_factory=list)  # statement -> samples, top few
    holding: list[tuple[str, int]] = field(default_factory=list)  # "state: statement" -> samples

    def share(self, processes: int) -> float:
        """The share of the processes' time spent waiting on a lock (backend-samples over
        polls times processes)."""
        return self.lock_waits / max(self.ticks * processes, 1)


@dataclass
class Run:
    processes: int
    wall: float
    items: int  # the work, counted in the database afterwards
    runs: list[ProcessRun]
    contention: Contention
    correct: bool
    check: str  # what was counted
    load: float = 0.0  # 1-minute load average at its end

    @property
    def cpu(self) -> float:
        """The processes' CPU seconds in Python, together (PostgreSQL's are not counted)."""
        return sum(r.cpu for r in self.runs)

    @property
    def per_second(self) -> float:
        return self.items / self.wall if self.wall else 0.0

    @property
    def shares(self) -> list[float]:
        total = sum(r.done for r in self.runs) or 1
        return sorted((r.done / total for r in self.runs), reverse=True)

    @property
    def attempts(self) -> int:
        return sum(r.statements for r in self.runs)


@dataclass
class Part:
    name: str
    work: str  # the same total work each run does
    unit: str
    runs: list[Run] = field(default_factory=list)

    def speedup(self, run: Run) -> float:
        return self.runs[0].wall / run.wall if run.wall else 0.0

    @property
    def correct(self) -> bool:
        return bool(self.runs) and all(r.correct for r in self.runs)


@dataclass
class ParallelFigures:
    cores: int
    parts: list[Part]
    load: list[tuple[str, float]] = field(default_factory=list)  # (part, 1-minute load before)


# --- the processes -------------------------------------------------------------------------


def _warm(part: str, payload: dict) -> None:
    """What a long-lived worker has done before the measured call: imports, its connection,
    the service once with nothing to do."""
    old = datetime.fromisoformat("2000-01-03T12:00:00+00:00")
    if part in ("route_leads", "route_waiting_leads"):
        from sdr.services import route_leads

        route_leads(lead_ids=[0])
    elif part == "sweep_breaches":
        from work.services import sweep_breaches

        sweep_breaches(now=old)
    elif part == "run_renewals":
        from renewals.services import run_renewals

        idle = run_renewals(now=datetime.fromisoformat(payload["warm"])).as_dict()
        if any(idle.values()):
            sys.exit(f"the warm-up run on {payload['warm']} did work: {idle}")
    elif part == "send_due":
        from mail.services import send_due

        send_due(now=old)
    elif part == "refresh":
        from insight import facts  # noqa: F401
        from insight.models import RefreshState

        RefreshState.objects.first()


def _work(part: str, payload: dict) -> tuple[int, dict]:
    """The measured call: (items this process handled, the service's counts)."""
    from django.core import mail

    if part == "route_leads":
        from sdr.services import route_leads

        assigned, unassigned, unmatched = 0, 0, 0
        for batch in payload["batches"]:
            r = route_leads(lead_ids=batch)
            assigned += len(r.assigned)
            unassigned += len(r.unassigned)
            unmatched += len(r.unmatched)
        return assigned, {"assigned": assigned, "unassigned": unassigned, "unmatched": unmatched}
    if part == "route_waiting_leads":
        from sdr.services import route_waiting_leads

        r = route_waiting_leads(limit=payload["limit"])
        counts = {"assigned": len(r.assigned), "unassigned": len(r.unassigned), "unmatched": len(r.unmatched)}
        return len(r.assigned), counts
    if part == "sweep_breaches":
        from work.services import sweep_breaches

        s = sweep_breaches(now=datetime.fromisoformat(payload["now"]))
        counts = {"breached": s.breached, "escalated": s.escalated, "reassigned": s.reassigned}
        counts["emails"] = len(getattr(mail, "outbox", []))
        # One process's claim marks every due timer in one statement; the escalations (an
        # email each, the bulk of the time) are what the processes share, batch by batch.
        return s.escalated, counts
    if part == "run_renewals":
        from renewals.services import run_renewals

        counts = run_renewals(now=datetime.fromisoformat(payload["now"])).as_dict()
        done = counts["opened"] + counts["reminded"] + counts["skipped"] + counts["auto_renewed"]
        return done, counts
    if part == "send_due":
        from mail.services import send_due

        result = send_due(limit=payload["limit"])
        return result.sent, dict(result.outcomes)
    if part == "refresh":
        from insight import facts

        written = facts.refresh()
        return written, {"written": written}
    raise SystemExit(f"unknown part {part}")


def worker_main(part: str, payload_json: str) -> None:
    import django

    django.setup()
    payload = json.loads(payload_json)
    _warm(part, payload)
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()
    t, cpu = time_ns(), time.process_time()
    with StatementTimer() as traced:
        done, counts = _work(part, payload)
    seconds = (time_ns() - t) / 1e9
    out = {
        "start": start,
        "end": time.time(),
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "done": done,
        "counts": counts,
        "statements": len(traced.statements),
        "db_ms": sum(ms for _, _, ms in traced.statements),
    }
    print(json.dumps(out), flush=True)


# --- the parent: start, sample, count ------------------------------------------------------

SAMPLE_SQL = """
SELECT a.wait_event_type, a.wait_event, a.query,
       CASE WHEN a.wait_event_type = 'Lock' THEN
         (SELECT string_agg(b.state || ': ' || left(b.query, 400), ' | ')
          FROM pg_stat_activity b WHERE b.pid = ANY(pg_blocking_pids(a.pid)))
       END
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND a.backend_type = 'client backend' AND a.state = 'active'
"""

_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_LISTS = re.compile(r"\((?:\s*\?\s*,)+\s*\?\s*\)")


def statement_shape(sql: str, width: int = 110) -> str:
    """A statement with its literals replaced by ``?`` and its lists folded (psycopg binds on
    the client, so pg_stat_activity shows the values), cut to ``width``."""
    shape = _LISTS.sub("(?…)", _LITERALS.sub("?", " ".join(sql.split())))
    return abridge(shape, width)


class Sampler(threading.Thread):
    """Polls pg_stat_activity of the bench database every 10 ms until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.contention = Contention()
        self._waiting: Counter = Counter()
        self._holding: Counter = Counter()
        self._events: Counter = Counter()

    def run(self) -> None:
        with connect() as conn:
            while not self.stop.is_set():
                rows = conn.execute(SAMPLE_SQL).fetchall()
                c = self.contention
                c.ticks += 1
                for event_type, event, query, blockers in rows:
                    c.active += 1
                    if event_type:
                        self._events[f"{event_type}:{event}"] += 1
                    if event_type == "Lock":
                        c.lock_waits += 1
                        self._waiting[statement_shape(query or "")] += 1
                        for blocker in (blockers or "").split(" | "):
                            state, _, text = blocker.partition(": ")
                            self._holding[f"{state}: {statement_shape(text)}"] += 1
                time.sleep(SAMPLE_SECONDS)
        c = self.contention
        c.events = dict(self._events.most_common())
        c.waiting = self._waiting.most_common(TOP_STATEMENTS)
        c.holding = self._holding.most_common(TOP_STATEMENTS)


def run_processes(
    part: str, payloads: list[dict], env: dict | None = None
) -> tuple[float, list[ProcessRun], Contention]:
    """One process per payload, started together once all are warm; the lock sampler runs
    from "go" to the last end."""
    with ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in payloads]
        return _run_processes(part, payloads, logs, env)


def _run_processes(
    part: str, payloads: list[dict], logs: list, env: dict | None
) -> tuple[float, list[ProcessRun], Contention]:
    environment = os.environ | {"EMAIL_URL": "memorymail://"} | (env or {})
    workers = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.parallel", part, json.dumps(payload)],
            cwd=BASE_DIR,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        for payload, log in zip(payloads, logs, strict=True)
    ]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.stdout is not None  # piped above
        if worker.stdout.readline().strip() != "ready":
            worker.wait()
            log.seek(0)
            raise RuntimeError(f"a {part} process did not start:\n{log.read()[-3000:]}")
    sampler = Sampler()
    sampler.start()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = []
    for worker, log in zip(workers, logs, strict=True):
        out, _ = worker.communicate()
        if worker.returncode:
            log.seek(0)
            raise RuntimeError(f"a {part} process failed ({worker.returncode}):\n{log.read()[-3000:]}")
        outputs.append(ProcessRun(**json.loads(out.strip().splitlines()[-1])))
    sampler.stop.set()
    sampler.join()
    wall = max(o.end for o in outputs) - min(o.start for o in outputs)
    return wall, outputs, sampler.contention


def _split(items: list, parts: int) -> list[list]:
    """Round-robin shares: process k takes items k, k + parts, ... (interleaved batches)."""
    return [items[k::parts] for k in range(parts)]


# --- routing -------------------------------------------------------------------------------


def _routing_check(data, ids: list[int], runs: list[ProcessRun]) -> tuple[bool, str, int]:
    with connect() as conn:
        owned = scalar(
            conn, "SELECT count(*) FROM leads_lead WHERE id = ANY(%s) AND owner_id IS NOT NULL", [ids]
        )
        events, twice = one_row(
            conn,
            """SELECT count(*), count(*) FILTER (WHERE n > 1) FROM (
                   SELECT lead_id, count(*) AS n FROM leads_leadevent
                   WHERE lead_id = ANY(%s) AND kind = 'routed' GROUP BY lead_id) e""",
            [ids],
        )
        items, items_twice = one_row(
            conn,
            """SELECT count(*), count(*) FILTER (WHERE n > 1) FROM (
                   SELECT object_id, count(*) AS n FROM work_workitem
                   WHERE content_type_id = %s AND object_id = ANY(%s) AND kind = 'first_touch'
                   GROUP BY object_id) i""",
            [data.lead_ct, ids],
        )
        # The round-robin keeps the spread even: within a team, the new leads per rep differ by
        # at most one, however many processes dealt them.
        spread = scalar(
            conn,
            """SELECT COALESCE(max(hi - lo), 0) FROM (
                   SELECT team_id, max(n) AS hi, min(n) AS lo FROM (
                       SELECT u.id, u.team_id, count(l.id) AS n FROM team_user u
                       LEFT JOIN leads_lead l ON l.owner_id = u.id AND l.id = ANY(%s)
                       WHERE u.team_id = ANY(%s) AND u.is_active AND NOT u.is_away
                         AND u.role IN ('inbound_sdr', 'outbound_sdr')
                       GROUP BY u.id, u.team_id) r GROUP BY team_id) t""",
            [ids, data.teams],
        )
    reported = sum(r.done for r in runs)
    n = len(ids)
    ok = owned == events == items == reported == n and not twice and not items_twice and spread <= 1
    check = (
        f"{owned:,}/{n:,} owned, {events:,} routed once ({twice} twice), {items:,} timers ({items_twice} twice),"
        f" processes reported {reported:,}; round-robin spread {spread}"
    )
    return ok, check, owned


def measure_routing(data, n: int, log=print) -> list[Part]:
    from sdr.services import ROUTING_SWEEP_BATCH

    from .queues.routing import ROUTING_BATCH, create_fresh_leads, reset_routing

    ids = create_fresh_leads(data, n)
    batches = [ids[k : k + ROUTING_BATCH] for k in range(0, len(ids), ROUTING_BATCH)]
    capture = Part(
        "Routing on capture: `route_leads`",
        f"{n:,} fresh MQLs in batches of {ROUTING_BATCH}, the batches dealt round-robin to the processes"
        " (captures in several web processes); 8 teams, each batch locks the round-robin rows of the"
        " teams it touches",
        "leads",
    )
    sweep = Part(
        "Routing sweep: `route_waiting_leads`",
        f"{n:,} unowned MQLs; every process runs the sweep over all of them (batches of"
        f" {ROUTING_SWEEP_BATCH}, `SKIP LOCKED`), as overlapping beat runs or workers would",
        "leads",
    )
    for part, mode in ((capture, "route_leads"), (sweep, "route_waiting_leads")):
        for p in PROCESSES:
            reset_routing(data)
            payloads: list[dict[str, Any]]
            if mode == "route_leads":
                payloads = [{"batches": share} for share in _split(batches, p)]
            else:
                payloads = [{"limit": n} for _ in range(p)]
            wall, runs, contention = run_processes(mode, payloads)
            ok, check, items = _routing_check(data, ids, runs)
            part.runs.append(Run(p, wall, items, runs, contention, ok, check))
            _log_run(log, part, part.runs[-1])
    reset_routing(data)
    return [capture, sweep]


# --- the breach sweep ----------------------------------------------------------------------


def _sweep_instant(due: int) -> datetime:
    """The instant at which ``due`` open timers are past due."""
    with connect() as conn:
        return scalar(
            conn,
            """SELECT due_at FROM work_workitem
               WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL
               ORDER BY due_at OFFSET %s LIMIT 1""",
            [due - 1],
        )


def _reset_breaches(at: datetime) -> int:
    """Put the sweep at ``at`` back; return how many timers are due then."""
    with connect() as conn:
        conn.execute("DELETE FROM work_breach WHERE detected_at = %s", [at])
        conn.execute("UPDATE work_workitem SET breached_at = NULL WHERE breached_at = %s", [at])
        conn.execute("VACUUM ANALYZE work_workitem")
        conn.execute("VACUUM ANALYZE work_breach")
        return scalar(
            conn,
            """SELECT count(*) FROM work_workitem
               WHERE state = 'open' AND breached_at IS NULL AND policy_id IS NOT NULL AND due_at <= %s""",
            [at],
        )


def measure_breaches(due: int, log=print) -> Part:
    at = _sweep_instant(due)
    part = Part(
        "Breach sweep: `sweep_breaches`",
        f"{due:,} open first-touch timers past due (of 10,000), every process sweeping at the same"
        " instant: claim (`FOR UPDATE SKIP LOCKED`), breach rows, the managers' emails (locmem)",
        "breaches",
    )
    for p in PROCESSES:
        expected = _reset_breaches(at)
        wall, runs, contention = run_processes("sweep_breaches", [{"now": at.isoformat()}] * p)
        with connect() as conn:
            breaches, sent = one_row(
                conn,
                "SELECT count(*), count(*) FILTER (WHERE escalation = 'sent') FROM work_breach WHERE detected_at = %s",
                [at],
            )
            marked = scalar(conn, "SELECT count(*) FROM work_workitem WHERE breached_at = %s", [at])
        reported = sum(r.counts["breached"] for r in runs)
        emails = sum(r.counts["emails"] for r in runs)
        ok = breaches == marked == reported == expected == sent == emails
        check = (
            f"{breaches:,} breaches for {expected:,} due ({marked:,} timers marked), processes reported"
            f" {reported:,}; {emails:,} emails for {sent:,} escalated"
        )
        part.runs.append(Run(p, wall, breaches, runs, contention, ok, check))
        _log_run(log, part, part.runs[-1])
    _reset_breaches(at)
    return part


# --- the renewal task ----------------------------------------------------------------------


def measure_renewals(contracts: int, log=print) -> Part:
    from .renewals.data import at, backdate, check_done, due_on, generate
    from .renewals.task import Concurrent, run_task

    log(f"parallel: renewals data set, {contracts:,} active contracts (renewals generator)")
    retire_am_teams()
    data = generate(contracts)
    first_day = data.today - timedelta(days=1)
    run_task("first run", first_day)
    check_done(data, first_day)
    backdate(data, at(first_day))
    span = 7  # each run catches up a week (CATCH_UP_DAYS): more work than one day's
    part = Part(
        "Daily renewal task: `run_renewals`",
        f"a week of windows and auto-renewals over {contracts:,} active contracts (each run on a day a"
        f" week after the last, catching up {span} days), every process running the task at once",
        "windows + renewals",
    )
    day = first_day
    for p in PROCESSES:
        warm, day = day, day + timedelta(days=span)
        expected = due_on(data, day)
        wall, runs, contention = run_processes(
            "run_renewals", [{"now": at(day).isoformat(), "warm": at(warm).isoformat()}] * p
        )
        check_done(data, day)
        with connect() as conn:
            steps: dict[str, int] = dict(
                conn.execute(
                    "SELECT step, count(*) FROM renewals_renewalstep WHERE done_at = %s GROUP BY step",
                    [at(day)],
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
        concurrent = Concurrent(
            day=day,
            seconds=wall,
            runs=[{"counts": r.counts} for r in runs],
            expected=expected,
            steps=steps,
            items=items,
            duplicates=duplicates,
        )
        t = concurrent.totals
        done = t["opened"] + t["reminded"] + t["skipped"] + t["auto_renewed"]
        check = f"expected {expected}; done {t}; steps {steps}; items {items}; {duplicates} duplicates"
        part.runs.append(Run(p, wall, done, runs, contention, concurrent.exactly_once, check))
        _log_run(log, part, part.runs[-1])
    return part


# --- the email sender ----------------------------------------------------------------------


def measure_mail(n: int, log=print) -> Part:
    from mail.models import Message

    from .mail_send import delivered, servers_up, set_up

    if not servers_up():
        raise RuntimeError(
            "the mail servers do not answer on 127.0.0.1:10025/10143: `make mail-servers` starts them"
        )
    each = n // MAILBOXES
    part = Part(
        "Email sender: `send_due`",
        f"{each * MAILBOXES:,} emails due at once from {MAILBOXES} mailboxes (SMTP 127.0.0.1:10025,"
        " pace 0), every process running the sweep over all of them; each claim takes the mailbox's"
        " row lock, the SMTP conversation happens after the claim commits",
        "emails",
    )
    for p in PROCESSES:
        boxes = [f"bench-par{p}-{uuid.uuid4().hex[:12]}@refinery.test" for _ in range(MAILBOXES)]
        for box in boxes:
            set_up(each, box)
        wall, runs, contention = run_processes("send_due", [{"limit": each * MAILBOXES}] * p)
        time.sleep(1)  # a duplicate would arrive after the last original
        inboxes = [delivered(box, each) for box in boxes]
        time.sleep(1)
        inboxes = [delivered(box, each, timeout=0) for box in boxes]
        sent = Message.objects.filter(
            to_address__startswith=f"bench-par{p}-", status=Message.Status.SENT
        ).count()
        total = sum(inboxes)
        reported = sum(r.done for r in runs)
        claims = sum(sum(r.counts.values()) for r in runs)
        ok = sent == reported == total == each * MAILBOXES and all(x == each for x in inboxes)
        check = (
            f"{sent:,} marked sent of {each * MAILBOXES:,}, {total:,} in the inboxes ({min(inboxes)} to {max(inboxes)}"
            f" per mailbox of {each}), processes reported {reported:,} sent in {claims:,} claim attempts"
            f" ({', '.join(f'{k} {v:,}' for k, v in sorted(_sum_counts(runs).items()))})"
        )
        part.runs.append(Run(p, wall, sent, runs, contention, ok, check))
        _log_run(log, part, part.runs[-1])
    return part


def _sum_counts(runs: list[ProcessRun]) -> dict[str, int]:
    total: Counter = Counter()
    for r in runs:
        total.update(r.counts)
    return dict(total)


# --- the insight rollup --------------------------------------------------------------------


def measure_facts(data, writes: int, log=print) -> Part:
    from insight import facts
    from sdr.services import log_touch
    from team.models import User

    from .insight.facts import writable_leads

    log("parallel: insight rollup: rebuild() of the lead facts first")
    facts.rebuild()
    with connect() as conn:
        conn.execute("VACUUM ANALYZE insight_leadfact")
    part = Part(
        "Insight rollup: `insight.facts.refresh`",
        f"the facts of {writes:,} leads touched since the last refresh (`log_touch`), every process"
        " refreshing at once; runs serialise on the `RefreshState` row (a refresh finding it taken"
        " skips: the next minute catches up)",
        "facts",
    )
    users = {u.pk: u for u in User.objects.filter(pk__in=data.reps)}
    used: set[int] = set()
    for p in PROCESSES:
        for lead, sdr in writable_leads(data, writes, used):
            log_touch(lead_id=lead, by=users[sdr], kind="call", outcome="connected")
        wall, runs, contention = run_processes("refresh", [{}] * p)
        written = sum(r.done for r in runs)
        writers = sum(1 for r in runs if r.done)
        again = facts.refresh()
        ok = written >= writes and writers == 1 and again == 0
        check = (
            f"{written:,} facts written for {writes:,} touched leads by {writers} process(es);"
            f" a refresh afterwards wrote {again}"
        )
        part.runs.append(Run(p, wall, written, runs, contention, ok, check))
        _log_run(log, part, part.runs[-1])
    return part


def _log_run(log, part: Part, run: Run) -> None:
    run.load = os.getloadavg()[0]
    c = run.contention
    log(
        f"parallel: {part.name.split(':')[0]}, {run.processes} process(es): {run.wall:.2f} s,"
        f" {run.per_second:,.0f} {part.unit}/s, speed-up {part.speedup(run):.2f}x, {run.cpu:.1f} CPU s, shares"
        f" {'/'.join(f'{s:.0%}' for s in run.shares)}, lock waits {c.share(run.processes):.0%}"
        f" ({c.lock_waits} samples), load {run.load:.1f}; {'correct' if run.correct else 'WRONG'}: {run.check}"
    )
    for statement, samples in c.waiting:
        log(f"parallel:   waiting {samples}: {statement}")
    for statement, samples in c.holding:
        log(f"parallel:   holding {samples}: {statement}")


def measure(sizes, campaigns: list[int], log=print) -> ParallelFigures:
    """Every part in 1, 2, 4 and 8 processes, on data sets of this figure's own (``sizes``:
    run.py's ``parallel_*`` fields)."""
    from . import queues
    from .insight.data import retire_earlier_people

    figures = ParallelFigures(cores=os.cpu_count() or 1, parts=[])
    # REFINERY_BENCH_PARALLEL=routing,email measures only those parts (a partial run).
    chosen = [name for name in os.environ.get("REFINERY_BENCH_PARALLEL", "").split(",") if name]
    data = None
    if not chosen or {"routing", "breaches", "rollup"} & set(chosen):
        # The generators' team names are unique: the earlier figures' people step aside.
        retire_earlier_people()
        log(f"parallel: generating the queues data set, {sizes.parallel_leads:,} leads, 200 SDRs in 8 teams")
        data = queues.generate(sizes.parallel_leads, campaigns=campaigns)
    steps = (
        ("routing", lambda: measure_routing(data, sizes.parallel_routing, log=log)),
        ("breaches", lambda: [measure_breaches(sizes.parallel_due, log=log)]),
        ("rollup", lambda: [measure_facts(data, sizes.parallel_writes, log=log)]),
        ("email", lambda: [measure_mail(sizes.parallel_sends, log=log)]),
        ("renewals", lambda: [measure_renewals(sizes.parallel_contracts, log=log)]),
    )
    for name, step in steps:
        if chosen and name not in chosen:
            continue
        figures.load.append((name, os.getloadavg()[0]))
        figures.parts += step()
    return figures


def retire_am_teams() -> None:
    """When the renewals or insight figure ran earlier in this run, the AM teams hold the
    names the renewals generator creates: rename them and their calendars out of the way and
    deactivate their people (as ``insight.data.retire_earlier_people`` does for the SDRs)."""
    from .insight.data import retire_teams
    from .renewals.data import AM_TEAMS

    retire_teams([t[0] for t in AM_TEAMS], usernames=["r-%"])


if __name__ == "__main__":
    worker_main(sys.argv[1], sys.argv[2])
