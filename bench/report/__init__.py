"""The benchmark results and the report built from them: each figure's section module turns
its measurements into summary rows and a section of blocks (``bench.mdwriter``), rendered
once: the summary table printed at the end of a run, the whole report written to
docs/benchmarks.md (or, for a quick or partial run, under bench/results/)."""

from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

from ..capture import CaptureFigures
from ..csv_import import ImportFigures
from ..dedupe import DedupeFigures
from ..env import BASE_DIR, BENCH_ENV, DB_NAME
from ..export import ExportFigures
from ..insight import InsightFigures
from ..live import LiveFigures
from ..mail_poll import MailPollFigures
from ..mail_send import MailSendFigures
from ..mdwriter import Bullets, Code, Heading, Paragraph, Section, Table, render
from ..opportunities import OpportunitiesFigures
from ..overload import OverloadFigures
from ..parallel import ParallelFigures
from ..propensity import PropensityFigures
from ..queues import QueuesFigures
from ..renewals import RenewalsFigures
from ..search import SearchFigures
from ..sweep import SweepFigures
from . import capture, csv_import, insight, live, mail_poll, mail_send, opportunities, queues, renewals, sweep
from . import dedupe as dedupe_report
from . import export as export_report
from . import overload as overload_report
from . import parallel as parallel_report
from . import propensity as propensity_report
from . import search as search_report
from .summary import HEADERS, Row

DOCS_PATH = BASE_DIR / "docs" / "benchmarks.md"


@dataclass
class Results:
    quick: bool
    facts: dict
    started_at: datetime
    capture: CaptureFigures | None = None
    imports: ImportFigures | None = None
    sweep: SweepFigures | None = None
    queues: QueuesFigures | None = None
    opportunities: OpportunitiesFigures | None = None
    renewals: RenewalsFigures | None = None
    insight: InsightFigures | None = None
    mail_poll: MailPollFigures | None = None
    mail_send: MailSendFigures | None = None
    live: LiveFigures | None = None
    search: SearchFigures | None = None
    export: ExportFigures | None = None
    dedupe: DedupeFigures | None = None
    propensity: PropensityFigures | None = None
    overload: OverloadFigures | None = None
    parallel: ParallelFigures | None = None
    total_seconds: float = 0.0
    load: dict[str, tuple[float, float]] = field(default_factory=dict)  # 1-minute load avg

    def figures(self) -> list[tuple[ModuleType, Any]]:
        """(the figure's report module, its measurements) for each figure measured, in order."""
        measured = (
            (capture, self.capture),
            (csv_import, self.imports),
            (sweep, self.sweep),
            (queues, self.queues),
            (opportunities, self.opportunities),
            (renewals, self.renewals),
            (insight, self.insight),
            (mail_poll, self.mail_poll),
            (mail_send, self.mail_send),
            (live, self.live),
            (search_report, self.search),
            (export_report, self.export),
            (dedupe_report, self.dedupe),
            (propensity_report, self.propensity),
            (overload_report, self.overload),
            (parallel_report, self.parallel),
        )
        return [(module, figures) for module, figures in measured if figures]


def summary_rows(results: Results) -> list[Row]:
    """(figure, measured, baseline, ratio, target, met) for each figure measured."""
    return [row for module, figures in results.figures() for row in module.rows(figures)]


def missing(results: Results) -> list[str]:
    """The figures that could not be measured as meant (a page failed, the rollup failed)."""
    return [row.figure for row in summary_rows(results) if row.missing]


def summary_table(results: Results) -> Table:
    return Table(HEADERS, [row.cells() for row in summary_rows(results)])


def text_table(results: Results) -> str:
    return summary_table(results).text()


def markdown(results: Results) -> str:
    f = results.facts
    kind = "quick (smoke) run — sizes reduced, not the published figures" if results.quick else "full run"
    load = ", ".join(f"{name} {start:.1f} → {end:.1f}" for name, (start, end) in results.load.items())
    blocks = [
        Heading(1, "Benchmarks"),
        Paragraph(
            "Written by `make bench` (`bench/run.py`); do not edit by hand. Each figure is measured beside a",
            "baseline doing the same work the cheapest way, in the same run on the same machine; the ratio is",
            "figure / baseline. Benchmarks are not tests: nothing here runs under pytest.",
        ),
        Bullets(
            [
                f"Run: {results.started_at:%Y-%m-%d %H:%M} UTC, {kind}, {results.total_seconds / 60:.1f} minutes in all",
                f"Machine: {f['cores']} cores ({f['cpu']}), {f['memory']} RAM, {f['os']}",
                f"PostgreSQL {f['postgresql']} on 127.0.0.1 ({f['postgresql_settings']}); Redis on 127.0.0.1",
                f"Python {f['python']}, Django {f['django']}, {f['wrk']}",
                f"1-minute load average at the start → end of each figure: {load} (on {f['cores']} cores)."
                " Anything above the bench's own processes is other work sharing the machine, which lowers"
                " the absolute figures; each baseline ran minutes from its figure.",
            ]
        ),
        Section("Summary", [summary_table(results)]),
        Section(
            "Configuration",
            [
                Paragraph(
                    "Every process runs `config.settings` through `bench/settings.py` (which only adds the baseline",
                    f"URL) with these variables, against a database `{DB_NAME}` dropped and re-created by each",
                    "run (`manage.py migrate`):",
                ),
                Code([f"{name}={value}" for name, value in BENCH_ENV.items() if name not in ("PYTHONPATH",)]),
                Paragraph(
                    "`WEBFORM_RATE=1000000/s` lifts the public form's per-client rate limit (30/m in production):",
                    "every wrk request comes from 127.0.0.1, so the limit would otherwise refuse all but the first",
                    "30. The limit is still checked and counted in Redis on every request, as in production.",
                    "Database connections persist between requests (`CONN_MAX_AGE` 600 by default).",
                ),
            ],
        ),
        *(module.section(figures) for module, figures in results.figures()),
    ]
    return "\n".join(render(blocks)) + "\n"
