"""Figure 1: capture over HTTP."""

from ..capture import CaptureFigures
from ..mdwriter import Paragraph, Section, Table
from .summary import Row
from .targets import CAPTURE_TARGET


def rows(c: CaptureFigures) -> list[Row]:
    baseline = (
        f"{c.baseline.requests_per_second:,.0f} inserts/s, p99 {c.baseline.p99_ms:.1f} ms (one-INSERT view)"
    )
    return [
        Row(
            "Capture over HTTP: intake (web form, gunicorn)",
            f"{c.web_form.requests_per_second:,.0f} submissions/s, p99 {c.web_form.p99_ms:.1f} ms",
            baseline,
            f"{c.ratio:.2f}x",
            f"≥ {CAPTURE_TARGET:g}x baseline",
            c.ratio >= CAPTURE_TARGET,
        ),
        Row(
            "Capture over HTTP: end to end (leads stored by the worker)",
            f"{c.end_to_end.leads_per_second:,.0f} leads/s ({c.end_to_end.leads:,} in {c.end_to_end.seconds:.1f} s)",
            baseline,
            f"{c.end_to_end_ratio:.2f}x",
            f"≥ {CAPTURE_TARGET:g}x baseline",
            c.end_to_end_ratio >= CAPTURE_TARGET,
        ),
    ]


def section(c: CaptureFigures) -> Section:
    endpoints = Table(
        ("endpoint", "requests", "seconds", "requests/s", "p50 ms", "p99 ms", "failed", "rows stored"),
        [
            (
                name,
                f"{r.requests:,}",
                f"{r.seconds:.1f}",
                f"{r.requests_per_second:,.0f}",
                f"{r.p50_ms:.1f}",
                f"{r.p99_ms:.1f}",
                f"{r.failed:,}",
                f"{r.rows_stored:,}",
            )
            for name, r in (
                ("`POST /f/<key>/` (web form)", c.web_form),
                ("`POST /bench/insert/` (baseline)", c.baseline),
            )
        ],
    )
    e = c.end_to_end
    return Section(
        "1. Capture over HTTP",
        [
            Paragraph(
                f"gunicorn, {c.workers} sync workers, on 127.0.0.1; `wrk -t{c.wrk['threads']} -c{c.wrk['connections']}"
                f" -d{c.wrk['seconds']}s --latency -s bench/capture.lua` after a {c.wrk['warmup']} s warm-up of each",
                "endpoint. Each request posts a form-encoded submission with a distinct email (first_name,",
                'company, title, country "USA", employees "1,200") and `Accept: application/json`. wrk, gunicorn,',
                "PostgreSQL and Redis share the machine's cores.",
            ),
            Paragraph(
                "At the door the web form checks the per-client rate limit in Redis, looks the form up",
                "through the cache, cleans and validates the fields and stores one `WebSubmission` row (at",
                "most one drain task a second is sent). One Celery worker (prefork, one child, on the same",
                "two cores) captures the submissions: dedupe on email, fit scoring against a five-criterion",
                "profile, the lead, its activity and its timeline event. The baseline is a `csrf_exempt`",
                "view inserting one row with raw SQL into `bench_insert`, behind the same middleware.",
            ),
            endpoints,
            Paragraph(
                "*failed* counts non-2xx responses and socket errors; *rows stored* is counted in the",
                "database (submissions for the web form; a few requests still in flight when wrk stops",
                "complete after it).",
            ),
            Paragraph(
                f"End to end: {e.submissions:,} submissions accepted in the run became {e.leads:,} leads; the last"
                f" was captured {e.seconds:.1f} s after the first request ({e.drain_seconds:.1f} s after the load"
                f" stopped), so {e.leads_per_second:,.0f} leads/s were stored end to end."
            ),
        ],
    )
