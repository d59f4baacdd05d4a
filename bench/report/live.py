"""Figure 10: live updates, 500 open queue pages polling."""

from ..live import LiveFigures
from ..mdwriter import Block, Paragraph, Section, Table
from .summary import Row, not_measured


def rows(m: LiveFigures) -> list[Row]:
    figure = f"Live queue: {m.pages} open pages polling every {m.interval} s"
    if m.paced.wrk.failed or m.not_modified.failed:
        return [not_measured(figure, f"{m.paced.wrk.failed + m.not_modified.failed} failed polls")]
    return [
        Row(
            figure,
            f"{m.paced.wrk.requests_per_second:,.1f} polls/s, p99 {m.paced.wrk.p99_ms:.1f} ms,"
            f" {m.not_modified.cpu_ms:.1f} ms CPU a 304,"
            f" +{m.paced.transactions_per_second - m.paced.idle_transactions_per_second:,.0f} DB transactions/s,"
            f" {m.paced.gunicorn_cpu + m.paced.postgres_cpu:.2f} cores",
            f"version SQL p99 {m.sql_p99_ms:.2f} ms",
            "—",
            "—",
            None,
        )
    ]


def _statuses(run) -> str:
    return ", ".join(f"{n:,} {status}" for status, n in run.statuses.items() if n) or "—"


def section(m: LiveFigures) -> Section:
    p = m.paced
    capacity = Table(
        ("poll", "requests/s", "p50 ms", "p99 ms", "CPU ms per poll", "answers", "failed"),
        [
            (
                "nothing changed: 304 (as fast as served, 16 connections)",
                f"{m.not_modified.requests_per_second:,.0f}",
                f"{m.not_modified.p50_ms:.1f}",
                f"{m.not_modified.p99_ms:.1f}",
                f"{m.not_modified.cpu_ms:.1f}",
                _statuses(m.not_modified),
                f"{m.not_modified.failed}",
            ),
            (
                "changed: the list rendered (16 connections)",
                f"{m.changed.requests_per_second:,.0f}",
                f"{m.changed.p50_ms:.1f}",
                f"{m.changed.p99_ms:.1f}",
                f"{m.changed.cpu_ms:.1f}",
                _statuses(m.changed),
                f"{m.changed.failed}",
            ),
            (
                f"{m.pages} open pages, one poll each every {m.interval} s",
                f"{p.wrk.requests_per_second:,.1f}",
                f"{p.wrk.p50_ms:.1f}",
                f"{p.wrk.p99_ms:.1f}",
                f"{p.wrk.cpu_ms:.1f}",
                _statuses(p.wrk),
                f"{p.wrk.failed}",
            ),
            (
                "bare SQL of the version check (cursor)",
                "—",
                f"{m.sql_p50_ms:.2f}",
                f"{m.sql_p99_ms:.2f}",
                "—",
                "—",
                "—",
            ),
        ],
    )
    blocks: list[Block] = [
        Paragraph(
            f"{m.pages} logged-in sessions over {m.reps} SDRs (~{m.open_items_per_rep:.0f} open items each, the queues",
            f"generator on {m.leads:,} leads), gunicorn with {m.workers} sync workers. Each poll is `GET /queue/live/`",
            "with the page's version in `If-None-Match` (`bench/live.lua`): the session, the user and one grouped",
            "count of the rep's queue, then a 304 without rendering, or the list rendered when the version",
            "differs. The paced run holds one wrk connection per open page, each waiting the poll interval",
            "between its polls.",
        ),
        capacity,
        Paragraph(
            f"During the paced run the bench database ran {p.transactions_per_second:,.1f} transactions/s",
            f"({p.idle_transactions_per_second:,.1f}/s with nothing polling; every statement is its own",
            "transaction in autocommit: a 304 is four, Django's connection health check, the session, the",
            f"user and the queue's counts) reading {p.rows_read_per_second:,.0f} rows/s; the gunicorn",
            f"workers used {p.gunicorn_cpu:.3f} cores and PostgreSQL's backends {p.postgres_cpu:.3f} cores",
            "(`/proc`, CPU seconds per second). The machine is shared: the latencies and requests/s above move",
            "with its load (the load average is in the summary), the CPU per poll much less. At",
            f"{m.not_modified.cpu_ms:.1f} ms of CPU a 304 and {m.changed.cpu_ms:.1f} ms a changed poll, {m.pages} pages",
            f"polling every {m.interval} s need about {m.pages / m.interval * m.not_modified.cpu_ms / 1000:.2f} cores",
            "when nothing changes.",
        ),
    ]
    if m.sse:
        blocks.append(
            Paragraph(
                "Server-sent events instead (`/bench/sse/`, a stream that checks the same version every second):",
                f"with the {m.sse.workers} sync workers each holding one open page's stream, a plain `GET /healthz`",
                f"took {m.sse.healthz_ms:,.0f} ms (it waited for a stream to end; {m.sse.healthz_alone_ms:.1f} ms",
                "alone). Each open page holds a worker (or, under an async server, a connection and a task that",
                f"still asks the database every few seconds): {m.pages} pages would need {m.pages} workers where",
                "polling needs none held. Polling with conditional requests is the mechanism.",
            )
        )
    return Section("10. Live updates", blocks)
