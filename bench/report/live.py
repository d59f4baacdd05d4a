"""Figure 10: live updates, 500 open queue pages polling."""

from ..live import LiveFigures, SseRun
from ..mdwriter import Block, Paragraph, Section, Table
from .summary import Row, not_measured


def rows(m: LiveFigures) -> list[Row]:
    figure = f"Live queue: {m.pages} open pages polling every {m.interval} s"
    if m.paced.wrk.failed or m.not_modified.failed:
        return [not_measured(figure, f"{m.paced.wrk.failed + m.not_modified.failed} failed polls")]
    found = [
        Row(
            figure,
            f"{m.paced.wrk.requests_per_second:,.1f} polls/s, p99 {m.paced.wrk.p99_ms:.1f} ms,"
            f" {m.not_modified.cpu_ms:.1f} ms CPU a 304,"
            f" +{_added(m, m.paced.transactions_per_second):,.0f} DB transactions/s,"
            f" {m.paced.gunicorn_cpu + m.paced.postgres_cpu:.2f} cores",
            f"version SQL p99 {m.sql_p99_ms:.2f} ms",
            "—",
            "—",
            None,
        )
    ]
    if m.sse:
        sse = m.sse
        stream_figure = (
            f"Live queue: {sse.streams} open pages on server-sent events, a check every {m.sse_interval} s"
        )
        if sse.open_at_end < sse.streams or sse.fetches_failed:
            closed = sse.streams - sse.open_at_end
            found.append(
                not_measured(
                    stream_figure,
                    f"{closed} of {sse.streams} streams closed, {sse.fetches_failed} lists failed",
                )
            )
        else:
            found.append(
                Row(
                    stream_figure,
                    f"{sse.open_at_end} streams held, +{_added(m, sse.transactions_per_second):,.0f} DB transactions/s,"
                    f" {sse.gunicorn_cpu + sse.postgres_cpu:.2f} cores,"
                    f" +{sse.rss_streams_mb - sse.rss_idle_mb:,.0f} MB, /healthz max {sse.healthz_max_ms:.1f} ms",
                    "polling above",
                    "—",
                    "—",
                    None,
                )
            )
    return found


def _added(m: LiveFigures, transactions_per_second: float) -> float:
    return max(transactions_per_second - m.paced.idle_transactions_per_second, 0.0)


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
            f"generator on {m.leads:,} leads), gunicorn as production runs it (`config/gunicorn.py`: {m.workers} uvicorn",
            "workers on the ASGI application, pooled database connections). Each poll is `GET /queue/live/`",
            "with the page's version in `If-None-Match` (`bench/live.lua`): the session, the user and one grouped",
            "count of the rep's queue, then a 304 without rendering, or the list rendered when the version",
            "differs. The paced run holds one wrk connection per open page, each polling once at a random",
            "point of the first interval (pages are not opened in step), then every interval; each poll is a",
            "new connection, as the server's keep-alive (5 s) is shorter than the interval.",
        ),
        capacity,
        Paragraph(
            f"During the paced run the bench database ran {p.transactions_per_second:,.1f} transactions/s",
            f"({p.idle_transactions_per_second:,.1f}/s with nothing polling; every statement is its own",
            "transaction in autocommit: the session, the user and the queue's counts, about",
            f"{_added(m, p.transactions_per_second) / max(p.wrk.requests_per_second, 0.001):.1f} a poll)",
            f"reading {p.rows_read_per_second:,.0f} rows/s; the gunicorn",
            f"workers used {p.gunicorn_cpu:.3f} cores and PostgreSQL's backends {p.postgres_cpu:.3f} cores",
            "(`/proc`, CPU seconds per second). The machine is shared: the latencies and requests/s above move",
            "with its load (the load average is in the summary), the CPU per poll much less. At",
            f"{m.not_modified.cpu_ms:.1f} ms of CPU a 304 and {m.changed.cpu_ms:.1f} ms a changed poll, {m.pages} pages",
            f"polling every {m.interval} s need about {m.pages / m.interval * m.not_modified.cpu_ms / 1000:.2f} cores",
            "when nothing changes.",
        ),
    ]
    if m.sse:
        blocks += _sse_blocks(m, m.sse)
    return Section("10. Live updates", blocks)


def _sse_blocks(m: LiveFigures, sse: SseRun) -> list[Block]:
    p = m.paced
    poll_cores, sse_cores = p.gunicorn_cpu + p.postgres_cpu, sse.gunicorn_cpu + sse.postgres_cpu
    poll_added, sse_added = _added(m, p.transactions_per_second), _added(m, sse.transactions_per_second)
    table = Table(
        (
            f"{m.pages} open pages",
            "requests or messages/s",
            "DB transactions/s added",
            "CPU gunicorn",
            "CPU PostgreSQL",
            "workers' memory MB",
            "workers' threads",
            "/healthz p50 / max ms",
            "pages served",
        ),
        [
            (
                f"polling every {m.interval} s",
                f"{p.wrk.requests_per_second:,.1f} polls",
                f"{poll_added:,.1f}",
                f"{p.gunicorn_cpu:.3f}",
                f"{p.postgres_cpu:.3f}",
                f"{p.rss_mb:,.0f}",
                f"{p.threads}",
                f"{p.healthz_p50_ms:.1f} / {p.healthz_max_ms:.1f}",
                f"{_statuses(p.wrk)}, {p.wrk.failed} failed",
            ),
            (
                f"server-sent events, a check every {m.sse_interval} s",
                f"{sse.messages_per_second:,.1f} messages",
                f"{sse_added:,.1f}",
                f"{sse.gunicorn_cpu:.3f}",
                f"{sse.postgres_cpu:.3f}",
                f"{sse.rss_streams_mb:,.0f} (idle {sse.rss_idle_mb:,.0f})",
                f"{sse.threads_streams} (idle {sse.threads_idle})",
                f"{sse.healthz_p50_ms:.1f} / {sse.healthz_max_ms:.1f}",
                f"{sse.open_at_end} of {sse.streams} streams open to the end ({sse.opened} opened);"
                f" {sse.lists_fetched:,} lists fetched, {sse.fetches_failed} failed",
            ),
        ],
    )
    blocks: list[Block] = [
        Paragraph(
            f"Server-sent events instead, on a fresh server of the same kind ({m.workers} uvicorn workers):",
            f"{sse.streams} streams (`/bench/sse/` in `bench/baseline_urls.py`, an async view authenticating",
            "by session with `request.auser()`; its stream computes the version `/queue/live/` answers, with",
            "`sdr.access.queue_owner_for`, `sdr.queue.queue_summary` and `kit.live.live_etag` through",
            "`sync_to_async`, every interval, and sends it when it changed, else a comment as heartbeat),",
            f"opened spread over one interval ({sse.open_seconds:.1f} s until all had answered) and then held",
            f"{sse.seconds:.0f} s, as long as the paced polling run; CPU, transactions and `/healthz` (every half",
            "second, on its own connection) over the hold, memory and threads with every stream open. No row",
            "changed during either run, but a queue's version moves as its items cross an SLA threshold with",
            "time: a changed poll's answer renders the list, and on an event with a new version the bench's",
            "page fetches its list (`GET /queue/live/`), so both mechanisms pay the same renders.",
        ),
        table,
    ]
    if sse.open_at_end < sse.streams or sse.opened < sse.streams or sse.fetches_failed:
        verdict = (
            f"Only {sse.open_at_end} of {sse.streams} streams stayed open ({sse.opened} opened, {sse.fetches_failed}"
            " lists failed): on this server server-sent events did not serve 500 open pages."
        )
    else:
        cheaper_cpu = sse_cores < poll_cores
        cheaper_db = sse_added < poll_added
        memory = sse.rss_streams_mb - sse.rss_idle_mb
        ratio = poll_cores / sse_cores if sse_cores else float("inf")
        comparison = (
            f"Polling took {poll_cores:.3f} cores (gunicorn and PostgreSQL) and added {poll_added:,.1f} transactions/s;"
            f" the streams {sse_cores:.3f} cores and {sse_added:,.1f} transactions/s, and held"
            f" {memory:,.0f} MB more in the workers ({memory * 1024 / sse.streams:,.0f} KB a stream) and"
            f" {sse.threads_streams - sse.threads_idle} more threads (Django runs each request's"
            " synchronous part, here the middleware and the checks, on a thread of its own for as long as"
            " the request lasts)."
        )
        if cheaper_cpu and cheaper_db and ratio >= 2:
            verdict = (
                f"{comparison} By these numbers server-sent events under ASGI cost {ratio:.1f} times less CPU"
                " and fewer transactions for the same freshness; what they cost instead is memory, a thread"
                " and an open connection per page (and every proxy in front must pass streams through)."
            )
        elif not cheaper_cpu and not cheaper_db:
            verdict = (
                f"{comparison} By these numbers polling costs no more than server-sent events: it stays."
            )
        else:
            verdict = (
                f"{comparison} Neither is clearly cheaper by these numbers (CPU {ratio:.1f} to 1); polling,"
                " which holds nothing open, stays."
            )
        blocks.append(Paragraph(verdict))
    blocks.append(
        Paragraph(
            "With gunicorn's sync workers (the earlier prototype) a stream held a whole worker for as long",
            "as the page was open: four workers served four pages and every other request waited. Under",
            "production's uvicorn workers a stream is a coroutine asleep between its checks, plus the thread",
            "counted above.",
        )
    )
    return blocks
