"""``hand_off`` and ``accept_handoff`` per second, one at a time and in two processes (and the
worker each of them runs), beside one statement each."""

import gc
import json
import statistics
import subprocess
import sys
import time as wall
from dataclasses import dataclass, field
from time import perf_counter_ns as time_ns

from django.utils import timezone

from ..env import BASE_DIR, PYTHON, connect
from ..mdwriter import span
from ..timing import StatementTimer, Timer, percentile, statement_kinds
from .data import BIG_TABLES, DataSet

TRACED_OPERATIONS = 20  # handoffs / accepts counted with CaptureQueriesContext, not timed
PARALLEL = 2

QUALIFYING = {  # as tests/factories.qualifying()
    "budget": "partly",
    "authority": "confirmed",
    "need": "confirmed",
    "timing": "partly",
    "budget_note": "Budget is being set for Q1.",
    "authority_note": "Head of sales ops, signs off up to 50k.",
    "need_note": "Their SDRs miss hand-raisers; they lose deals to slow follow-up.",
    "timing_note": "Wants a tool live before the spring campaign.",
}

# One handoff in one statement: the lead handed off, its contact at the account of its
# email's domain, the opportunity and its event, the lead's event, its open work items
# closed (the first touch done, the rest cancelled), the AE's acceptance item (due a day
# later, on the wall clock). No territory rule, round-robin lock, cadence or calendar.
HANDOFF_BASELINE_SQL = """
WITH lead AS (
    UPDATE leads_lead SET status = 'handed_off', status_changed_at = %(now)s, updated_at = %(now)s
    WHERE id = %(lead)s AND status IN ('mql', 'working')
    RETURNING id, email, first_name, last_name, title, phone, company, campaign_id, owner_id, source
), contact AS (
    INSERT INTO accounts_contact (account_id, lead_id, email, first_name, last_name, title, phone, created_at)
    SELECT (SELECT a.id FROM accounts_account a WHERE a.domain = split_part(lead.email, '@', 2)),
           lead.id, lead.email, lead.first_name, lead.last_name, lead.title, lead.phone, %(now)s
    FROM lead
    RETURNING id, account_id
), opportunity AS (
    INSERT INTO accounts_opportunity (
        name, status, origin, budget, budget_note, authority, authority_note, need, need_note, timing,
        timing_note, asked_for_meeting, proposed_meeting_at, amount, close_date, next_step, handed_off_at,
        accepted_at, rejected_at, reject_reason, reject_note, closed_at, lost_reason, lost_note, early_loss,
        updated_at, account_id, campaign_id, contact_id, lead_id, owner_id, sdr_id, stage_id)
    SELECT lead.company || ': ' || lead.first_name || ' ' || lead.last_name, 'handed_off',
           CASE WHEN lead.source = 'outbound' THEN 'outbound' ELSE 'inbound' END,
           %(budget)s, %(budget_note)s, %(authority)s, %(authority_note)s, %(need)s, %(need_note)s,
           %(timing)s, %(timing_note)s, false, NULL, NULL, NULL, '', %(now)s, NULL, NULL, '', '', NULL,
           '', '', false, %(now)s, contact.account_id, lead.campaign_id, contact.id, lead.id, %(ae)s,
           lead.owner_id, NULL
    FROM lead, contact
    RETURNING id, name
), event AS (
    INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
    SELECT id, 'handed_off', %(now)s, %(by)s, '', '', 'Handed off.' FROM opportunity
), lead_event AS (
    INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
    SELECT id, 'status', %(now)s, 'manual', 'working', 'handed_off', 'Handed off', %(by)s, campaign_id FROM lead
), closed AS (
    UPDATE work_workitem
    SET state = CASE WHEN kind = 'first_touch' THEN 'done' ELSE 'cancelled' END, completed_at = %(now)s
    WHERE content_type_id = %(lead_ct)s AND object_id = %(lead)s AND state = 'open'
)
INSERT INTO work_workitem (kind, state, owner_id, team_id, content_type_id, object_id, title, note,
                           policy_id, created_at, due_at)
SELECT 'accept_handoff', 'open', %(ae)s, %(ae_team)s, %(opportunity_ct)s, id, 'Accept or reject: ' || name, '',
       %(policy)s, %(now)s, %(now)s + interval '1 day'
FROM opportunity
RETURNING object_id
"""

ACCEPT_BASELINE_SQL = """
WITH opportunity AS (
    UPDATE accounts_opportunity
    SET status = 'open', stage_id = %(stage)s, accepted_at = %(now)s, updated_at = %(now)s
    WHERE id = %(opportunity)s AND status = 'handed_off'
    RETURNING id, owner_id, lead_id
), done AS (
    UPDATE work_workitem w SET state = 'done', completed_at = %(now)s, completed_by_id = o.owner_id
    FROM opportunity o
    WHERE w.content_type_id = %(opportunity_ct)s AND w.object_id = o.id AND w.kind = 'accept_handoff'
      AND w.state = 'open'
), event AS (
    INSERT INTO accounts_opportunityevent (opportunity_id, kind, at, actor_id, from_stage, to_stage, message)
    SELECT id, 'accepted', %(now)s, owner_id, '', 'Discovery', 'Accepted.' FROM opportunity
)
INSERT INTO leads_leadevent (lead_id, kind, at, via, from_status, to_status, message, actor_id, campaign_id)
SELECT lead_id, 'handoff', %(now)s, '', '', '', 'Accepted.', owner_id, NULL FROM opportunity
WHERE lead_id IS NOT NULL
RETURNING lead_id
"""


@dataclass
class Throughput:
    operation: str  # "hand_off" or "accept_handoff"
    mode: str  # "sequential" or "2 processes"
    operations: int
    seconds: float
    ms: list[float]  # per operation
    queries: list[int] = field(default_factory=list)  # per traced operation
    statement_kinds: dict[str, list] = field(default_factory=dict)  # kind -> [count, ms]
    baseline_seconds: float = 0.0
    baseline_operations: int = 0
    teams: dict[str, int] = field(default_factory=dict)  # handoffs by the AE team they went to

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.ms, 95)

    @property
    def baseline_per_second(self) -> float:
        return self.baseline_operations / self.baseline_seconds if self.baseline_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.per_second / self.baseline_per_second if self.baseline_seconds else 0.0


def working_leads(data: DataSet, count: int) -> list[tuple[int, int]]:
    """``count`` working leads of the queues data set, spread over the SDRs: (lead, SDR)."""
    with connect() as conn:
        rows = conn.execute(
            """SELECT id, owner_id FROM leads_lead
               WHERE id <= %s AND status = 'working' AND owner_id = ANY(%s)
               ORDER BY hashint8(id), id LIMIT %s""",
            [data.base_leads, data.reps, count],
        ).fetchall()
    if len(rows) != count:
        raise RuntimeError(f"{len(rows)} working leads, expected {count}")
    return [tuple(r) for r in rows]


def _qualifying():
    from accounts.services import Qualifying

    return Qualifying(**QUALIFYING)


def _hand_off_one(lead_id: int, by) -> tuple[int, int]:
    from accounts.services import hand_off

    opportunity = hand_off(lead_id=lead_id, by=by, qualifying=_qualifying())
    return opportunity.pk, opportunity.owner_id


def _accept_one(opportunity_id: int, by) -> tuple[int, int]:
    from accounts.services import accept_handoff

    opportunity = accept_handoff(opportunity_id=opportunity_id, by=by)
    return opportunity.pk, opportunity.owner_id


OPERATIONS = {"hand_off": _hand_off_one, "accept": _accept_one}


def _run(
    operation: str, pairs: list[tuple[int, int]], users
) -> tuple[list[float], list[tuple[int, int]], float]:
    """Each (subject, actor) in turn, timed one by one: (ms, results, wall seconds)."""
    work = OPERATIONS[operation]
    ms, results = [], []
    gc.collect()
    start = time_ns()
    for subject, actor in pairs:
        t = time_ns()
        results.append(work(subject, users[actor]))
        ms.append((time_ns() - t) / 1e6)
    return ms, results, (time_ns() - start) / 1e9


def _traced(operation: str, pairs, users) -> tuple[list[int], dict[str, list], list[tuple[int, int]]]:
    """The first operations, each with its statements counted; the last one's statements by
    kind, with their execute() time (the first ones warm the caches)."""
    work = OPERATIONS[operation]
    queries, kinds, results = [], {}, []
    for subject, actor in pairs:
        with StatementTimer() as traced:
            results.append(work(subject, users[actor]))
        queries.append(len(traced.statements))
        kinds = statement_kinds(traced.statements)
    return queries, kinds, results


def _users(data: DataSet) -> dict:
    from team.models import User

    return {u.pk: u for u in User.objects.filter(pk__in=[*data.reps, *data.aes]).select_related("team")}


def measure_throughput(data: DataSet, n: int, log=print) -> list[Throughput]:
    users = _users(data)
    leads = working_leads(data, 3 * n)
    sequential, parallel, baseline = leads[:n], leads[n : 2 * n], leads[2 * n :]
    runs = []

    log(f"opportunities: hand_off of {n:,} working leads, one at a time ({TRACED_OPERATIONS} traced first)")
    queries, kinds, created = _traced("hand_off", sequential[:TRACED_OPERATIONS], users)
    ms, more, seconds = _run("hand_off", sequential[TRACED_OPERATIONS:], users)
    created += more
    hand_off = Throughput("hand_off", "sequential", len(ms), seconds, ms, queries, kinds)
    hand_off.teams = _teams(created)
    runs.append(hand_off)
    log(
        f"opportunities: hand_off {hand_off.per_second:,.1f}/s, median {hand_off.median_ms:.1f} ms,"
        f" {span(queries)} queries each"
    )

    log(f"opportunities: accept_handoff of those {len(created):,}, one at a time")
    queries, kinds, _ = _traced("accept", created[:TRACED_OPERATIONS], users)
    ms, _, seconds = _run("accept", created[TRACED_OPERATIONS:], users)
    accept = Throughput("accept_handoff", "sequential", len(ms), seconds, ms, queries, kinds)
    runs.append(accept)
    log(
        f"opportunities: accept {accept.per_second:,.1f}/s, median {accept.median_ms:.1f} ms,"
        f" {span(queries)} queries each"
    )

    log(f"opportunities: baseline, one statement per handoff and per accept, {len(baseline):,} leads")
    hand_off.baseline_seconds, accepted_ids = _handoff_baseline(data, baseline)
    hand_off.baseline_operations = len(accepted_ids)
    accept.baseline_seconds, accept.baseline_operations = _accept_baseline(data, accepted_ids)
    log(
        f"opportunities: baseline {hand_off.baseline_per_second:,.0f} handoffs/s,"
        f" {accept.baseline_per_second:,.0f} accepts/s"
    )

    log(
        f"opportunities: {PARALLEL} processes at once: hand_off of {len(parallel):,} other leads, then accept"
    )
    seconds, ms, created = _parallel("hand_off", parallel)
    runs.append(
        Throughput("hand_off", f"{PARALLEL} processes", len(ms), seconds, ms,
                   baseline_seconds=hand_off.baseline_seconds, baseline_operations=hand_off.baseline_operations)
    )  # fmt: skip
    seconds, ms, _ = _parallel("accept", created)
    runs.append(
        Throughput("accept_handoff", f"{PARALLEL} processes", len(ms), seconds, ms,
                   baseline_seconds=accept.baseline_seconds, baseline_operations=accept.baseline_operations)
    )  # fmt: skip
    for run in runs[-2:]:
        log(
            f"opportunities: {run.operation} x{PARALLEL}: {run.per_second:,.1f}/s, median {run.median_ms:.1f} ms"
        )
    with connect() as conn:
        for table in BIG_TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
    return runs


def _teams(created: list[tuple[int, int]]) -> dict[str, int]:
    from django.db.models import Count

    from accounts.models import Opportunity

    return dict(
        Opportunity.objects.filter(pk__in=[pk for pk, _ in created])
        .values_list("owner__team__name")
        .annotate(n=Count("*"))
        .order_by("-n")
    )


def _handoff_baseline(data: DataSet, pairs: list[tuple[int, int]]) -> tuple[float, list[tuple[int, int]]]:
    """The baseline handoffs, AEs dealt in turn: (seconds, [(opportunity, AE)])."""
    params = {
        **QUALIFYING,
        "lead_ct": data.lead_ct,
        "opportunity_ct": data.opportunity_ct,
        "policy": data.policy,
    }
    created = []
    with connect() as conn, Timer() as timer:
        for k, (lead, sdr) in enumerate(pairs):
            ae = k % len(data.aes)
            row = conn.execute(
                HANDOFF_BASELINE_SQL,
                params
                | {
                    "lead": lead,
                    "by": sdr,
                    "ae": data.aes[ae],
                    "ae_team": data.ae_teams[ae],
                    "now": timezone.now(),
                },
            ).fetchone()
            if row is None:
                raise RuntimeError(f"the baseline did not hand off lead {lead}")
            created.append((row[0], data.aes[ae]))
    return timer.seconds, created


def _accept_baseline(data: DataSet, created: list[tuple[int, int]]) -> tuple[float, int]:
    accepted = 0
    with connect() as conn, Timer() as timer:
        for opportunity, _ in created:
            params = {
                "opportunity": opportunity,
                "stage": data.open_stages[0],
                "now": timezone.now(),
                "opportunity_ct": data.opportunity_ct,
            }
            accepted += conn.execute(ACCEPT_BASELINE_SQL, params).rowcount
    if accepted != len(created):
        raise RuntimeError(f"the baseline accepted {accepted} of {len(created)}")
    return timer.seconds, accepted


def _parallel(
    operation: str, pairs: list[tuple[int, int]]
) -> tuple[float, list[float], list[tuple[int, int]]]:
    """``PARALLEL`` worker processes, each with its share of ``pairs``, started together once
    all are ready: (wall seconds from the first start to the last end, ms, results)."""
    shares = [pairs[k::PARALLEL] for k in range(PARALLEL)]
    workers = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.opportunities", operation],
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in shares
    ]
    for worker, share in zip(workers, shares, strict=True):
        assert worker.stdin is not None and worker.stdout is not None  # both piped above
        worker.stdin.write(json.dumps(share) + "\n")
        worker.stdin.flush()
    for worker in workers:
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a {operation} worker did not start")
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = []
    for worker in workers:
        out, _ = worker.communicate()
        if worker.returncode:
            raise RuntimeError(f"a {operation} worker failed ({worker.returncode})")
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    seconds = max(o["end"] for o in outputs) - min(o["start"] for o in outputs)
    return seconds, [ms for o in outputs for ms in o["ms"]], [tuple(r) for o in outputs for r in o["results"]]


def worker_main(operation: str) -> None:
    """One parallel worker: pairs on stdin, "ready", wait for "go", work, one JSON line."""
    import django

    django.setup()
    from django.db import connection

    pairs = [tuple(p) for p in json.loads(sys.stdin.readline())]
    from team.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in={a for _, a in pairs}).select_related("team")}
    connection.ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    start = wall.time()
    ms, results, _ = _run(operation, pairs, users)
    print(json.dumps({"start": start, "end": wall.time(), "ms": ms, "results": results}), flush=True)
