"""``make bench``: measure Refinery's four performance figures, each beside a baseline doing
the same job the cheapest way (raw SQL), in the same run on the same machine.

    .venv/bin/python bench/run.py            # full sizes; writes docs/benchmarks.md
    .venv/bin/python bench/run.py --quick    # smoke run; writes bench/results/benchmarks-quick.md
    .venv/bin/python bench/run.py --ci       # the smoke run: smaller still, strict (before landing a model, migration or bench change)

1. Capture over HTTP: leads/s and p99 of the public web form under wrk, vs a one-insert view.
2. CSV import: rows/s of ``run_import`` on a Salesforce-shaped export, vs ``COPY``; and its
   memory at two file sizes.
3. Threshold sweep: seconds of ``sweep_engagement_thresholds`` over a table where 1% of the
   leads cross a threshold, vs an ``UPDATE`` of every lead; and its memory at two sizes.
4. Queues, routing and SLA timers (``--only queues``): the SDR queue page's server time and
   queries per request vs its bare SQL; the breach sweep with 1% of 10,000 open timers due
   (and with none due) vs an ``UPDATE`` + ``INSERT``; routing throughput vs one set-based
   statement per batch. On a million generated leads, 200 SDRs in 8 teams.
5. AE inbox, pipeline, handoff and accept (``--only opportunities``): the inbox and pipeline
   pages' server time and queries per request (for an AE with 2,560 opportunities and one with
   40) vs their bare SQL, on 100,000 opportunities in 4 AE teams; ``hand_off`` and
   ``accept_handoff`` per second, one at a time and in two processes, vs one statement each.
6. Renewals (``--only renewals``): the daily renewal task over 100,000 active contracts on a
   real sequence of days (the contracts entering the 60- and 30-day windows each day, and the
   auto-renewals), nothing due, two processes at once, after 7 missed days and the first run
   over the backlog, vs three set-based statements per day; the plans of its claims; and the
   renewals page's server time and queries per request for an AM with ~2,560 active contracts,
   a new AM and the AM teams' managers, vs its bare SQL. Its own data set (no leads figure needed).
7. Insight (``--only insight``): the lead-fact rollup's rebuild over a million leads and its
   incremental refresh per changed lead; the insight pages' server time for periods of 7 to
   365 days and every single filter, vs the same cohort numbers by a plain GROUP BY over the
   raw rows. Its own data set (the queues and opportunities generators, plus events and contracts).
8. Reading mail back (``--only mail``): an IMAP poll of 10,000 new messages on the local Dovecot
   (``bin/mail-servers``), matched against a million leads (those another figure left, or the
   sweep figure's generator), vs imaplib fetching the same messages and nothing else.
9. Sending email (``--only mail``): sends per minute through one worker (``mail.services.send_due``)
   to the SMTP server on loopback (``make mail-servers``), beside a bare ``smtplib`` loop sending
   the same number of messages over one connection (and one opening a connection per message).
10. Live updates (``--only live``): 500 open queue pages polling ``/queue/live/`` every 15 s on
   gunicorn with production's uvicorn workers: 304 and changed polls per second with p50/p99, the
   database transactions per second and the CPU they add, beside the version check's bare SQL;
   and 500 server-sent-events streams (an async view) held as long instead: the same database and
   CPU figures, the workers' memory, a plain request's time meanwhile, streams kept open. On the
   queues generator's data (its own,
   smaller set when the queues figure did not run: the cost is per open page, not per lead).
10. Global search (``--only search``): the search dropdown's server time and queries per request
   for an SDR and a manager on typical queries (an exact email, a company with a typo, a partial
   phone, a first name shared by thousands, a full name) at a million leads with realistic names,
   vs the bare trigram lookup on the leads; the plans of those lookups. On the queues and
   opportunities generators' data set.
11. Lead CSV export (``--only export``): ``/leads/export/`` of every lead streamed through the
   view and read to the end (rows/s, and the peak memory at two sizes: flat), vs ``COPY (SELECT
   ...) TO STDOUT WITH CSV`` of the same statement. On the sweep generator's leads.
12. Duplicate people (``--only dedupe``): the person duplicate finder over a million generated
   leads with 1% planted duplicates (another email; the same name at the same company written
   another way, the same phone written another way, the same name at the same email domain):
   the stored keys' first build and the refresh a run starts with (idle, and after 1,000 edits),
   the finder's seconds beside its grouping statement bare and a plain GROUP BY, recall and
   precision on the planted pairs, the page's server time and queries. Its own data set.
13. Learned propensity (``--only propensity``): training on a million closed leads with a planted
   propensity (seconds, peak traced memory, held-out AUC beside the oracle's and the fit score's)
   beside scikit-learn's fit alone on the same matrix; scoring a million open leads (read, score,
   write) beside numpy alone on the same matrix. Its own data set.
14. The parts that serialise (``--only parallel``): routing, the breach sweep, the renewal task,
   the email sender and the insight rollup, each doing the same work in 1, 2, 4 and 8 processes
   at once: wall time, throughput, each process's share, exactly-once counted in the database,
   lock waits sampled from ``pg_stat_activity`` and the statements that wait and hold. On the
   queues generator's data (100,000 leads, its own when the queues figure did not run) and the
   renewals generator's (20,000 contracts): the parts' costs follow the due rows, not the tables.

Everything runs against a dedicated database, ``refinery_bench``, dropped and re-created at
the start; Redis database 14 is flushed. Nothing else is touched. Another checkout (CI, a
second worktree) chooses its own with ``REFINERY_BENCH_DB`` and ``REFINERY_BENCH_REDIS_URL``.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# Run as a script (``python bench/run.py``): make the project importable as in manage.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

from bench import (
    capture,
    csv_import,
    dedupe,
    export,
    insight,
    live,
    mail_poll,
    mail_send,
    opportunities,
    overload,
    parallel,
    propensity,
    queues,
    renewals,
    report,
    search,
    sweep,
)
from bench.env import (
    DB_NAME,
    REDIS_URL,
    RESULTS_DIR,
    apply_env,
    clear_media,
    exclusive_run,
    flush_redis,
    machine_facts,
    recreate_database,
)


@dataclass(frozen=True)
class Sizes:
    wrk_seconds: int
    wrk_warmup: int
    import_rows: tuple[int, int]  # (small, large): the figure is the large one
    sweep_leads: tuple[int, int]
    queue_leads: int  # leads in the queues data set (a multiple of 10,000, at least 100,000)
    queue_requests: int  # timed requests of the queue page
    routing_leads: int  # fresh MQLs routed by each routing mode
    opportunities: int  # opportunities in the AE data set
    opportunity_requests: int  # timed requests of each AE page
    handoffs: int  # leads handed off (then accepted) by each throughput mode
    renewal_contracts: int  # active contracts in the renewals data set
    renewal_days: int  # consecutive days the daily renewal task is measured on
    renewal_requests: int  # timed requests of the renewals page by the AMs
    insight_leads: int  # leads in the insight data set (a multiple of 100,000)
    insight_requests: int  # timed requests of each insight page per period and filter
    mail_messages: int  # new messages in the polled mailbox
    mail_leads: int  # leads they are matched against (fewer left by another figure: generated)
    mail_sends: int  # emails sent by each path of the sending figure
    live_leads: int  # leads of the live figure's own data set (queues generator), if queues did not run
    live_seconds: int  # the paced run of 500 open pages
    dedupe_leads: int = 1_000_000  # leads the person duplicate finder searches (1% more planted)
    propensity_leads: int = 1_000_000  # closed leads learned from, and as many open leads scored
    search_leads: int = 1_000_000  # leads in the search data set (queues generator: 100,000 at least)
    search_requests: int = 50  # timed requests of each search case
    export_leads: tuple[int, int] = (
        100_000,
        1_000_000,
    )  # (small, large) leads exported: the figure is the large one
    live_sse_seconds: int | None = None  # the live figure's streams' hold (None: as its paced run)
    import_existing: int = 1_000_000  # leads already there when the large file is merged in
    # The parts that serialise, each in 1, 2, 4 and 8 processes (bench.parallel).
    parallel_leads: int = 100_000  # the queues data set, when the queues figure did not run
    parallel_routing: int = 2_000  # fresh MQLs routed by each run
    parallel_due: int = 2_000  # open timers past due at the breach sweep's instant
    parallel_contracts: int = 20_000  # active contracts of the renewal runs
    parallel_sends: int = 400  # emails due at once, over 8 mailboxes
    parallel_writes: int = 1_000  # leads touched before each rollup refresh


FULL = Sizes(
    wrk_seconds=20,
    wrk_warmup=5,
    import_rows=(10_000, 100_000),
    sweep_leads=(100_000, 1_000_000),
    queue_leads=1_000_000,
    queue_requests=200,
    routing_leads=10_000,
    opportunities=100_000,
    opportunity_requests=200,
    handoffs=2_000,
    renewal_contracts=100_000,
    renewal_days=7,
    renewal_requests=200,
    insight_leads=1_000_000,
    insight_requests=20,
    mail_messages=10_000,
    mail_leads=1_000_000,
    mail_sends=2_000,
    live_leads=100_000,
    live_seconds=60,
)
QUICK = Sizes(
    wrk_seconds=5,
    wrk_warmup=2,
    import_rows=(1_000, 10_000),
    import_existing=100_000,
    sweep_leads=(10_000, 100_000),
    queue_leads=100_000,
    queue_requests=50,
    routing_leads=2_000,
    opportunities=20_000,
    opportunity_requests=30,
    handoffs=200,
    renewal_contracts=20_000,
    renewal_days=3,
    renewal_requests=30,
    insight_leads=200_000,
    insight_requests=5,
    mail_messages=2_000,
    mail_leads=100_000,
    mail_sends=500,
    live_leads=100_000,
    live_seconds=45,
    search_leads=100_000,
    search_requests=20,
    export_leads=(10_000, 100_000),
    dedupe_leads=200_000,
    propensity_leads=200_000,
    parallel_routing=800,
    parallel_due=800,
    parallel_contracts=10_000,
    parallel_sends=160,
    parallel_writes=400,
)
# CI's smoke run (``--ci``): every figure end to end, so that a migration or model change that
# breaks one fails CI; sizes as small as each figure allows (the figures mean nothing here).
CI = Sizes(
    wrk_seconds=2,
    wrk_warmup=1,
    import_rows=(500, 2_000),
    import_existing=10_000,
    sweep_leads=(10_000, 20_000),
    queue_leads=100_000,
    queue_requests=5,
    routing_leads=500,
    opportunities=5_000,
    opportunity_requests=5,
    handoffs=50,
    renewal_contracts=2_000,
    renewal_days=1,
    renewal_requests=5,
    insight_leads=200_000,  # the smallest data set the insight generator makes
    insight_requests=1,
    mail_messages=500,
    mail_leads=20_000,
    mail_sends=50,
    live_leads=100_000,
    live_seconds=16,
    search_leads=100_000,
    search_requests=3,
    live_sse_seconds=3,
    export_leads=(2_000, 20_000),
    dedupe_leads=20_000,
    propensity_leads=20_000,
    parallel_routing=200,
    parallel_due=200,
    parallel_contracts=2_000,
    parallel_sends=40,
    parallel_writes=50,
)
FIGURES = (
    "capture",
    "import",
    "sweep",
    "queues",
    "opportunities",
    "renewals",
    "insight",
    "mail",
    "live",
    "search",
    "export",
    "dedupe",
    "propensity",
    "overload",
    "parallel",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short wrk runs (a smoke run)")
    parser.add_argument(
        "--ci",
        action="store_true",
        help="CI's smoke run: the smallest sizes; fails when a figure could not be measured",
    )
    parser.add_argument(
        "--only", choices=FIGURES, action="append", help="measure only this figure (repeatable)"
    )
    # On 2 cores, 2 to 8 sync workers gave about the same throughput in trials; 4 had the best
    # baseline. The application is CPU-bound per request, so more workers only add queueing.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument(
        "--overload-workers", type=int, default=2, help="uvicorn workers for the overload figure (default 2)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def create_configuration():
    """What every figure runs with, as in production: the scoring settings, an active
    ideal-customer profile (the demo's five criteria, so that capture and import score fit),
    one marketing user who uploads imports, twenty SDRs who own leads, and ten campaigns the
    generated leads came from."""
    from leads.models import Campaign, Channel, FitCriterion, FitField, IdealCustomerProfile, ScoringSettings
    from team.models import Role, User

    ScoringSettings.load()
    profile = IdealCustomerProfile.objects.create(name="Mid-market tech and finance")
    FitCriterion.objects.bulk_create(
        [
            FitCriterion(
                profile=profile,
                field=FitField.INDUSTRY,
                values="Technology, Financial Services, Telecommunications",
                points=30,
            ),
            FitCriterion(profile=profile, field=FitField.EMPLOYEES, minimum=100, maximum=5000, points=25),
            FitCriterion(
                profile=profile, field=FitField.SENIORITY, values="c_level, vp, director", points=20
            ),
            FitCriterion(profile=profile, field=FitField.ANNUAL_REVENUE, minimum=10_000_000, points=15),
            FitCriterion(profile=profile, field=FitField.COUNTRY, values="US, DE, GB, CA", points=10),
        ]
    )

    uploader = User.objects.create(username="bench-marketing", role=Role.MARKETING)
    owners = [User.objects.create(username=f"bench-sdr-{n}", role=Role.INBOUND_SDR).pk for n in range(20)]
    channels = [Channel.PAID_SEARCH, Channel.EMAIL, Channel.EVENT, Channel.WEBINAR, Channel.SOCIAL]
    campaigns = [
        Campaign.objects.create(name=f"Bench campaign {n}", channel=channels[n % len(channels)]).pk
        for n in range(10)
    ]
    return uploader, owners, campaigns


def bench_capture(sizes: Sizes, args) -> capture.CaptureFigures:
    capture.create_baseline_table()
    form = capture.create_web_form()
    wrk = {"seconds": sizes.wrk_seconds, "warmup": sizes.wrk_warmup}
    wrk |= {"threads": args.threads, "connections": args.connections}
    with capture.Gunicorn(workers=args.workers) as server:
        log(f"capture: gunicorn {args.workers} sync workers on {server.url}")
        log(f"capture: baseline POST /bench/insert/ ({sizes.wrk_warmup}s warm-up, {sizes.wrk_seconds}s run)")
        baseline = capture.measure_endpoint(server, "/bench/insert/", "bench_insert", name="baseline", **wrk)
        log(f"capture: {baseline.requests_per_second:,.0f} inserts/s, p99 {baseline.p99_ms:.1f} ms")
        log(f"capture: POST /f/<key>/ ({sizes.wrk_warmup}s warm-up, {sizes.wrk_seconds}s run)")
        with capture.CeleryWorker():
            web_form, end_to_end = capture.measure_web_form(server, f"/f/{form.key}/", **wrk)
        log(
            f"capture: intake {web_form.requests_per_second:,.0f} submissions/s, p99 {web_form.p99_ms:.1f} ms"
        )
        log(
            f"capture: end to end {end_to_end.leads_per_second:,.0f} leads/s ({end_to_end.leads:,} leads in"
            f" {end_to_end.seconds:.1f} s, drained {end_to_end.drain_seconds:.1f} s after the load stopped)"
        )
    return capture.CaptureFigures(
        web_form=web_form, baseline=baseline, workers=args.workers, wrk=wrk, end_to_end=end_to_end
    )


def bench_import(sizes: Sizes, uploader) -> csv_import.ImportFigures:
    small_rows, large_rows = sizes.import_rows
    log(f"import: generating {large_rows:,} and {small_rows:,}-row CSV files")
    large = csv_import.generate_csv(large_rows)
    small = csv_import.generate_csv(small_rows)
    log("import: baseline COPY (median of 3)")
    copy_seconds = csv_import.copy_baseline(large)
    log(f"import: COPY {large_rows / copy_seconds:,.0f} rows/s")
    runs = {}
    for rows, path in ((small_rows, small), (large_rows, large)):
        log(f"import: run_import of {rows:,} rows (timed, then traced)")
        runs[rows] = csv_import.measure_import(path, rows, uploader)
        log(
            f"import: {runs[rows].rows_per_second:,.0f} rows/s, RSS +{runs[rows].rss_growth_kib / 1024:.1f} MiB,"
            f" tracemalloc peak {runs[rows].tracemalloc_peak_kib / 1024:.1f} MiB"
        )
    log(f"import: merging {large_rows:,} rows (mapping, fill blanks) into {sizes.import_existing:,} leads")
    merge = csv_import.measure_merge(large, large_rows, sizes.import_existing, uploader)
    log(
        f"import: merge {merge.rows_per_second:,.0f} rows/s; bare SQL {merge.baseline_rows_per_second:,.0f} rows/s"
    )
    csv_import.truncate_leads()
    return csv_import.ImportFigures(
        small=runs[small_rows],
        large=runs[large_rows],
        copy_seconds=copy_seconds,
        file_bytes=large.stat().st_size,
        merge=merge,
    )


def bench_sweep(sizes: Sizes, owners: list[int], campaigns: list[int]) -> sweep.SweepFigures:
    runs = {}
    for leads in sizes.sweep_leads:
        log(f"sweep: generating {leads:,} leads, 1% crossing; then 3 timed sweeps and 1 traced")
        runs[leads] = sweep.measure_sweeps(leads, owners=owners, campaigns=campaigns)
        r = runs[leads]
        log(
            f"sweep: generated in {r.generate_seconds:.1f}s; sweep median {r.median_seconds * 1000:.0f} ms"
            f" ({', '.join(f'{s * 1000:.0f}' for s in r.seconds)} ms), moved"
            f" {r.expected_promoted:,}+{r.expected_cooled:,}, tracemalloc peak {r.tracemalloc_peak_kib / 1024:.1f} MiB"
        )
    small, large = (runs[n] for n in sizes.sweep_leads)
    log(f"sweep: {large.leads:,} leads with only {small.leads:,}'s crossings; 1 timed sweep and 1 traced")
    same = sweep.measure_same_crossings(large.leads, small.leads)
    log(
        f"sweep: {same.median_seconds * 1000:.0f} ms, moved {same.expected_promoted:,}+{same.expected_cooled:,},"
        f" tracemalloc peak {same.tracemalloc_peak_kib / 1024:.1f} MiB"
    )
    log(f"sweep: baseline UPDATE of all {large.leads:,} leads")
    update_seconds, updated = sweep.update_all_baseline()
    log(f"sweep: UPDATE took {update_seconds:.1f}s for {updated:,} rows")
    return sweep.SweepFigures(small=small, large=large, same_crossings=same, update_seconds=update_seconds)


def bench_queues(sizes: Sizes, campaigns: list[int]) -> queues.QueuesFigures:
    log(
        f"queues: generating {sizes.queue_leads:,} leads, 200 SDRs in 8 teams, {queues.OPEN_TIMERS:,} open"
        " first-touch timers (1% due at the sweep instant), history"
    )
    data = queues.generate(sizes.queue_leads, campaigns=campaigns)
    log(f"queues: generated in {data.generate_seconds:.1f} s: {data.counts}")

    log(f"queues: queue page, {sizes.queue_requests} requests across the reps")
    page = queues.measure_queue_page(data, sizes.queue_requests, log=log)
    log(
        f"queues: page p50 {page.p50_ms:.1f} ms, p95 {page.p95_ms:.1f} ms, {max(page.queries)} queries"
        f" ({max(page.queue_queries)} on the queue); bare SQL p95 {page.sql_p95_ms:.2f} ms"
    )

    log(f"queues: breach sweep ({queues.SWEEP_REPEATS} runs each, 1% due and none due) and its baseline")
    sweep_due, sweep_idle = queues.measure_sweeps(data)
    for case in (sweep_due, sweep_idle):
        log(
            f"queues: sweep with {case.due} due: median {case.median_ms:.1f} ms"
            f" ({', '.join(f'{s * 1000:.1f}' for s in case.seconds)}), {len(case.statements)} statements;"
            f" baseline {case.baseline_median_ms:.2f} ms"
        )

    log("queues: EXPLAIN (ANALYZE, BUFFERS) of the sweep's claim, the queue and routing's rep loads")
    plans = queues.plans(data)
    for problem in queues.missing_indexes(plans):
        log(f"queues: WARNING: {problem}")

    routing = queues.measure_routing(data, sizes.routing_leads, log=log)
    return report.QueuesFigures(
        data=data, page=page, sweep_due=sweep_due, sweep_idle=sweep_idle, routing=routing, plans=plans
    )


def bench_opportunities(
    sizes: Sizes, campaigns: list[int], queues_data=None
) -> opportunities.OpportunitiesFigures:
    source = (
        "the queues figure's leads"
        if queues_data
        else f"{opportunities.QUEUE_LEADS:,} leads (queues generator)"
    )
    log(
        f"opportunities: generating {sizes.opportunities:,} opportunities on {source}: 4 AE teams of"
        f" {opportunities.AES_PER_TEAM} AEs, {opportunities.ACCOUNTS:,} accounts, contacts, timelines, acceptance items"
    )
    data = opportunities.generate(sizes.opportunities, campaigns=campaigns, queues_data=queues_data)
    log(
        f"opportunities: generated in {data.generate_seconds:.1f} s (+{data.queues_seconds:.1f} s of queues data):"
        f" {data.counts}; an AE holds {data.loads['big']}, the new hire {data.loads['small']}"
    )
    pages = opportunities.measure_pages(data, sizes.opportunity_requests, log=log)
    throughput = opportunities.measure_throughput(data, sizes.handoffs, log=log)
    return report.OpportunitiesFigures(data=data, pages=pages, throughput=throughput)


def bench_renewals(sizes: Sizes) -> renewals.RenewalsFigures:
    return renewals.measure(sizes.renewal_contracts, sizes.renewal_days, sizes.renewal_requests, log=log)


def bench_insight(sizes: Sizes) -> insight.InsightFigures:
    return insight.measure(sizes.insight_leads, sizes.insight_requests, log=log)


def bench_mail_poll(sizes: Sizes, owners: list[int], campaigns: list[int]) -> mail_poll.MailPollFigures:
    log(f"mail: an IMAP poll of {sizes.mail_messages:,} new messages against {sizes.mail_leads:,}+ leads")
    return mail_poll.measure(
        sizes.mail_leads, sizes.mail_messages, owners=owners, campaigns=campaigns, log=log
    )


def bench_mail_send(sizes: Sizes) -> mail_send.MailSendFigures:
    return mail_send.measure(sizes.mail_sends, log=log)


def bench_live(sizes: Sizes, args, campaigns: list[int], queues_data=None) -> live.LiveFigures:
    return live.measure(
        sizes.live_leads,
        campaigns=campaigns,
        workers=args.workers,
        wrk_seconds=sizes.wrk_seconds,
        paced_seconds=sizes.live_seconds,
        sse_seconds=sizes.live_sse_seconds,
        queues_data=queues_data,
        log=log,
    )


def bench_search(sizes: Sizes, campaigns: list[int]) -> search.SearchFigures:
    log(f"search: generating {sizes.search_leads:,} leads and {sizes.opportunities:,} opportunities (queues and"
        " opportunities generators), realistic names, then the trigram indexes")  # fmt: skip
    return search.measure(sizes.search_leads, sizes.opportunities, sizes.search_requests, campaigns, log=log)


def bench_export(sizes: Sizes, uploader, owners: list[int], campaigns: list[int]) -> export.ExportFigures:
    small, large = sizes.export_leads
    log(f"export: the lead list's CSV export of {small:,} and {large:,} leads (sweep generator)")
    return export.measure_sizes(
        sizes.export_leads, user_id=uploader.pk, owners=owners, campaigns=campaigns, log=log
    )


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    args.quick = args.quick or args.ci
    sizes = CI if args.ci else QUICK if args.quick else FULL
    only = args.only or list(FIGURES)
    started_at = datetime.now(UTC)
    started = time.perf_counter()

    apply_env()
    log(f"setup: re-creating database {DB_NAME} and migrating; flushing Redis {REDIS_URL}")
    recreate_database()
    flush_redis()
    clear_media()
    django.setup()
    facts = machine_facts()
    uploader, owners, campaigns = create_configuration()

    results = report.Results(quick=args.quick, facts=facts, started_at=started_at)
    # The machine may be shared: the load average around each figure says how busy it was.
    if "capture" in only:
        load_before = os.getloadavg()[0]
        results.capture = bench_capture(sizes, args)
        results.load["capture"] = (load_before, os.getloadavg()[0])
    if "import" in only:
        load_before = os.getloadavg()[0]
        results.imports = bench_import(sizes, uploader)
        results.load["import"] = (load_before, os.getloadavg()[0])
    if "sweep" in only:
        load_before = os.getloadavg()[0]
        results.sweep = bench_sweep(sizes, owners, campaigns)
        results.load["sweep"] = (load_before, os.getloadavg()[0])
    if "queues" in only:
        load_before = os.getloadavg()[0]
        results.queues = bench_queues(sizes, campaigns)
        results.load["queues"] = (load_before, os.getloadavg()[0])
    # Right after the queues figure, on its reps: the insight figure deactivates the people of
    # the earlier figures (its own data set), whose sessions the open pages would then lose.
    if "live" in only:
        load_before = os.getloadavg()[0]
        results.live = bench_live(sizes, args, campaigns, results.queues.data if results.queues else None)
        results.load["live"] = (load_before, os.getloadavg()[0])
    if "opportunities" in only:
        load_before = os.getloadavg()[0]
        # On the queues figure's data set when it ran (its team names are unique), else its own.
        queues_data = results.queues.data if results.queues else None
        results.opportunities = bench_opportunities(sizes, campaigns, queues_data)
        results.load["opportunities"] = (load_before, os.getloadavg()[0])
    if "renewals" in only:
        load_before = os.getloadavg()[0]
        results.renewals = bench_renewals(sizes)
        results.load["renewals"] = (load_before, os.getloadavg()[0])
    if "insight" in only:
        load_before = os.getloadavg()[0]
        results.insight = bench_insight(sizes)
        results.load["insight"] = (load_before, os.getloadavg()[0])
    if "mail" in only:
        load_before = os.getloadavg()[0]
        results.mail_poll = bench_mail_poll(sizes, owners, campaigns)
        results.mail_send = bench_mail_send(sizes)
        results.load["mail"] = (load_before, os.getloadavg()[0])
    if "search" in only:
        load_before = os.getloadavg()[0]
        results.search = bench_search(sizes, campaigns)
        results.load["search"] = (load_before, os.getloadavg()[0])
    if "export" in only:
        load_before = os.getloadavg()[0]
        results.export = bench_export(sizes, uploader, owners, campaigns)
        results.load["export"] = (load_before, os.getloadavg()[0])
    if "dedupe" in only:
        load_before = os.getloadavg()[0]
        log(f"dedupe: the person duplicate finder over {sizes.dedupe_leads:,} leads")
        results.dedupe = dedupe.measure(sizes.dedupe_leads, log=log)
        results.load["dedupe"] = (load_before, os.getloadavg()[0])
    if "overload" in only:
        load_before = os.getloadavg()[0]
        seconds = 10 if args.quick else 60
        log(f"overload: the web form at twice its capacity for {seconds} s, a rep's page meanwhile")
        results.overload = overload.measure(
            workers=args.overload_workers, capacity_seconds=sizes.wrk_seconds, flood_seconds=seconds, log=log
        )
        results.load["overload"] = (load_before, os.getloadavg()[0])
    if "propensity" in only:
        load_before = os.getloadavg()[0]
        log(f"propensity: training on {sizes.propensity_leads:,} leads' history, scoring as many open leads")
        results.propensity = propensity.measure(sizes.propensity_leads, log=log)
        results.load["propensity"] = (load_before, os.getloadavg()[0])
    if "parallel" in only:
        load_before = os.getloadavg()[0]
        log("parallel: the parts that serialise, each in 1, 2, 4 and 8 processes at once")
        results.parallel = parallel.measure(sizes, campaigns, log=log)
        results.load["parallel"] = (load_before, os.getloadavg()[0])
    results.total_seconds = time.perf_counter() - started

    print()
    print(report.text_table(results))
    # Only a full run of every figure is published; smoke and partial runs stay local
    # (a partial run's file is named after its figures: benchmarks-opportunities.md).
    if args.quick or args.only:
        partial = f"benchmarks-{'-'.join(dict.fromkeys(only))}.md"
        destination = RESULTS_DIR / ("benchmarks-quick.md" if args.quick else partial)
    else:
        destination = report.DOCS_PATH
    destination.write_text(report.markdown(results))
    log(f"wrote {destination} (total {results.total_seconds / 60:.1f} min)")
    # Missed targets do not fail a smoke run (small data, a shared machine); a figure that could
    # not be measured (a page or the rollup failing) does.
    if args.ci and (missing := report.missing(results)):
        sys.exit("not measured: " + "; ".join(missing))


if __name__ == "__main__":
    with exclusive_run():
        main(sys.argv[1:])
