"""Figure "overload": the public web form flooded at twice its capacity for a minute."""

from ..mdwriter import Bullets, Paragraph, Section, Table
from ..overload import PAGE, OverloadFigures
from .summary import Row, not_measured

#: Refusals must be quick, a rep's page must stay usable, and the form must come back alone.
REFUSAL_P99_MS = 200
PAGE_P95_MS = 1000
RECOVER_SECONDS = 5


def _failures(m: OverloadFigures) -> int:
    """Answers that are neither accepted nor an honest refusal (503/429): 5xx, resets, time-outs."""
    return sum(r.count for name, r in m.results.items() if name not in ("2xx", "503", "429"))


def rows(m: OverloadFigures) -> list[Row]:
    figure = (
        f"Web form at 2x capacity ({m.rate:,.0f} posts/s for {m.seconds:.0f} s), {m.workers} web processes"
    )
    if not m.accepted:
        return [not_measured(figure, "no post was accepted")]
    refused = m.results.get("503")
    refused_p99 = refused.p99_ms if refused else 0.0
    met = (
        _failures(m) == 0
        and m.stored == m.accepted
        and refused_p99 < REFUSAL_P99_MS
        and m.page_p95_ms < max(PAGE_P95_MS, 3 * m.page_alone_p95_ms)
        and set(m.page_statuses) == {"200"}
        and m.recover_seconds < RECOVER_SECONDS
    )
    accepted = m.results["2xx"]
    found = [
        Row(
            figure,
            f"{accepted.count:,} accepted (p99 {accepted.p99_ms:.0f} ms), {refused.count if refused else 0:,}"
            f" refused 503 (p99 {refused_p99:.0f} ms), {_failures(m):,} resets/time-outs/other;"
            f" {m.stored:,} stored; {PAGE} p95 {m.page_p95_ms:.0f} ms; recovered in {m.recover_seconds:.1f} s",
            f"capacity {m.capacity:,.0f} accepted posts/s (wrk)",
            "—",
            f"no resets or time-outs; refusals p99 < {REFUSAL_P99_MS} ms; every 2xx stored;"
            f" page p95 < {PAGE_P95_MS} ms (or 3x its p95 alone on a busy machine); back within {RECOVER_SECONDS} s",
            met,
        )
    ]
    if m.without is not None:
        w = m.without
        refused_w = sum(r.count for name, r in w.results.items() if name in ("503", "429"))
        found.append(
            Row(
                "The same flood without admission control (`WEB_ADMISSION_CONTROL=0`, as before)",
                f"{w.accepted:,} accepted (p99 {w.results['2xx'].p99_ms if '2xx' in w.results else 0:.0f} ms),"
                f" {refused_w:,} refused, {_failures(w):,} resets/time-outs/other; {w.stored:,} stored;"
                f" {PAGE} p95 {w.page_p95_ms:.0f} ms; recovered in {w.recover_seconds:.1f} s",
                "—",
                "—",
                "— (the comparison)",
                None,
            )
        )
    return found


def section(m: OverloadFigures) -> Section:
    w = m.without
    names = sorted(set(m.results) | set(w.results if w else ()))

    def cells(results: dict, name: str) -> tuple[str, str, str]:
        r = results.get(name)
        return (f"{r.count:,}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}") if r else ("0", "—", "—")

    headers: tuple[str, ...] = ("answer", "posts", "p50 ms", "p99 ms")
    if w:
        headers += ("posts without", "p50 ms without", "p99 ms without")
    table = Table(
        headers,
        [(name, *cells(m.results, name), *(cells(w.results, name) if w else ())) for name in names],
    )
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(m.page_statuses.items()))
    return Section(
        "Overload: the web form at twice its capacity",
        [
            Paragraph(
                f"gunicorn with `config/gunicorn.py` ({m.workers} uvicorn workers; admission control,",
                "`kit/admission.py`), a Celery worker capturing behind it, PostgreSQL and Redis, all on the",
                "machine's two cores with the client. Capacity: wrk posting as fast as answered (16 keep-alive",
                "connections, each post from another of 100,000 addresses in `X-Forwarded-For`, trusted here as a",
                f"proxy's header; production's 30/m per address). The flood: {m.rate:,.0f} posts/s offered for",
                f"{m.seconds:.0f} s, open loop (`tests/faults/flood.py`: a post starts on schedule whatever became",
                "of the earlier ones), each on a fresh connection, from the same rotating addresses, while a",
                f"logged-in SDR opened `{PAGE}` every 0.5 s. Time-out 10 s. Load average {m.load[0]:.1f} →",
                f"{m.load[1]:.1f}.",
            ),
            table,
            Bullets(
                [
                    f"Capacity: {m.capacity:,.0f} accepted posts/s, p99 {m.capacity_p99_ms:.1f} ms.",
                    f"Refusals carried `Retry-After: {', '.join(m.retry_after) or '—'}`;"
                    f" {m.not_sent:,} posts not sent (the client's own limit on outstanding posts).",
                    f"{m.accepted:,} posts accepted (2xx); {m.stored:,} of their emails are leads once the worker"
                    f" drained ({m.drain_seconds:.1f} s after the flood).",
                    f"`{PAGE}` as an SDR during the flood: p50 {m.page_p50_ms:.1f} ms, p95 {m.page_p95_ms:.1f} ms,"
                    f" max {m.page_max_ms:.1f} ms ({statuses}); alone just before, p95 {m.page_alone_p95_ms:.1f} ms.",
                    f"After the flood a post was accepted again {m.recover_seconds:.2f} s after it ended.",
                ]
            ),
            *([_without(w)] if w else []),
        ],
    )


def _without(w: OverloadFigures) -> Bullets:
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(w.page_statuses.items()))
    return Bullets(
        [
            f"{w.accepted:,} accepted, {w.stored:,} of them stored once the worker drained ({w.drain_seconds:.1f} s after).",
            f"`{PAGE}` during the flood: p50 {w.page_p50_ms:.1f} ms, p95 {w.page_p95_ms:.1f} ms, max"
            f" {w.page_max_ms:.1f} ms ({statuses}); alone just before, p95 {w.page_alone_p95_ms:.1f} ms.",
            f"A post was accepted again {w.recover_seconds:.2f} s after the flood ended. Load average"
            f" {w.load[0]:.1f} → {w.load[1]:.1f}.",
        ],
        lead="Without admission control (`WEB_ADMISSION_CONTROL=0`; the server as it was before), the same flood:",
    )
