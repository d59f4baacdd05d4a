"""The insight pages. Thin: read the filters (``InsightFilter``), check the section
(``insight.access``), ask the modules that own the numbers, render.

Each page serves itself and its htmx partial (the results block, when the filters change), and
every table on it is also a CSV (``<section>/<table>.csv`` with the same query string, or
``?format=csv&table=<table>`` on the page itself). A page costs a fixed number of queries
whatever the data's size: every number is an aggregate in SQL.
"""

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kit.htmx import is_htmx

from .. import access, summary, tables
from ..filters import PRESETS, RETENTION_PRESET, InsightFilter, preset_period
from ..scope import Scope
from ..stats import rows_counted
from ..tables import TABLES, Cell

SECTION_TITLES = {
    "funnel": "Funnel",
    "speed": "Speed to lead",
    "money": "Money",
    "retention": "Retention",
}
ROWS_PER_PAGE = 100


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _tabs(user) -> list[tuple[str, str]]:
    return [(key, title) for key, title in SECTION_TITLES.items() if access.may_see(user, key)]


def _context(request, insight_filter: InsightFilter, valid: bool, current: str) -> dict:
    user = request.user
    return {
        "filter": insight_filter,
        "valid": valid,
        "current": current,
        "tabs": _tabs(user),
        "sees_people": access.sees_people(user),
        "may_health": access.may_see(user, "health"),
        "query": insight_filter.query() if valid else request.GET.urlencode(),
    }


def _render(request, context: dict, page: str, results: str, status: int = 200) -> HttpResponse:
    context["results_template"] = results
    template = results if is_htmx(request) else page
    return render(request, template, context, status=status)


# -- the overview ---------------------------------------------------------------------------------


def headline_measures(scope: Scope) -> dict:
    """The overview's numbers from the lead facts, by flow (``health.tally``'s form):
    opportunities accepted by an AE in the period (qualified) and their amounts (pipeline),
    and the win rate of the opportunities closed in the period (won / won and lost after
    acceptance)."""
    return {
        "accepted_at": {"qualified": rows_counted(), "pipeline": Sum("accepted_amount")},
        "won_at": {"won": rows_counted()},
        "lost_at": {"lost_accepted": rows_counted(Q(accepted_at__isnull=False))},
    }


# The money card's cohort: the leads first seen in the period that were accepted (qualified).
COHORT_QUALIFIED = {("first_seen_at", Q(accepted_at__isnull=False)): {"cohort_qualified": rows_counted()}}


def overview_counts(scope: Scope, settings=None) -> dict:
    """Every count of the overview the viewer may see, in ONE statement over the lead facts
    (the headline, the money card's qualified cohort, the health checks' flows): a part per
    moment, each read from that moment's index. ``settings``: the health thresholds, when
    the viewer sees the diagnoses."""
    from .. import health

    user = scope.user
    groups = []
    if access.may_see(user, "funnel"):
        groups.append(headline_measures(scope))
    if access.may_see(user, "money"):
        groups.append(COHORT_QUALIFIED)
    if settings is not None:
        groups.append(health.measures(scope, settings))
    return health.tally(scope, health.merged(*groups)) if groups else {}


def _retention_scope(insight_filter: InsightFilter, scope: Scope) -> Scope:
    """The scope of the retention card: the chosen period, or, when the request named none,
    retention's own default (12 months: a month of renewals is usually too few to read)."""
    if not insight_filter.defaulted or insight_filter.preset_name() == RETENTION_PRESET:
        return scope
    return replace(scope, period=preset_period(RETENTION_PRESET, scope.period.tz))


def _numbers(scope: Scope, retention_scope: Scope | None = None, counts: dict | None = None) -> list[dict]:
    """The handful of numbers that matter, as far as the viewer's sections go. ``counts``:
    ``overview_counts(scope)`` when the caller ran it."""
    user = scope.user
    numbers = []
    counts = overview_counts(scope) if counts is None else counts
    if access.may_see(user, "funnel"):
        head = counts
        numbers.append(
            {
                "key": "qualified",
                "label": "Qualified opportunities",
                "value": tables.count(head["qualified"]),
                "note": "accepted by an AE in the period",
                "link": "funnel",
            }
        )
        pipeline = head["pipeline"] or 0
        numbers.append(
            {
                "key": "pipeline",
                "label": "Qualified pipeline",
                "value": tables.compact_money(pipeline),
                "exact": tables.money(pipeline),
                "note": f"their amounts: {tables.money(pipeline)}",
                "link": "funnel",
            }
        )
    if access.may_see(user, "money"):
        from .. import money

        spend, qualified = money.spend(scope), counts["cohort_qualified"]
        cost = money.per(spend, qualified)
        numbers.append(
            {
                "key": "cost_per_qualified",
                "label": "Cost per qualified opportunity",
                "value": tables.compact_money(cost),
                "exact": tables.money(cost),
                "note": f"spend {tables.money(spend)} over {tables.count(qualified)} qualified "
                "from the leads first seen in the period",
                "link": "money",
            }
        )
    if access.may_see(user, "speed"):
        overall = tables.speed_overall(scope)
        numbers.append(
            {
                "key": "speed",
                "label": "Speed to lead (median)",
                "value": tables.duration(overall.median if overall else None),
                "note": f"90th percentile {tables.duration(overall.p90 if overall else None)}, wall clock",
                "link": "speed",
            }
        )
    if access.may_see(user, "funnel"):
        closed = head["won"] + head["lost_accepted"]
        numbers.append(
            {
                "key": "win_rate",
                "label": "Win rate",
                "value": tables.percent(head["won"], closed),
                "note": f"{tables.count(head['won'])} won of {tables.count(closed)} closed in the period",
                "link": "funnel",
            }
        )
    if access.may_see(user, "retention"):
        from .. import retention

        retention_scope = retention_scope or scope
        total = retention.total(retention_scope)
        own_period = "" if retention_scope is scope else f", {dict(PRESETS)[RETENTION_PRESET].lower()}"
        numbers.append(
            {
                "key": "nrr",
                "label": "Net revenue retention",
                "value": tables.rate(total.nrr),
                "note": f"gross {tables.rate(total.grr)}{own_period}",
                "link": "retention",
            }
        )
    return numbers


def with_unit(value, unit: str) -> str:
    """12.5 and "%" as "12.5%", 3 and "leads" as "3 leads", 1 and "contracts" as "1 contract"
    (a diagnosis names its unit in the plural)."""
    if value is None:
        return "—"
    text = f"{value:,.1f}".removesuffix(".0")
    if unit.startswith("%"):
        return f"{text}{unit}"
    if text == "1" and unit.endswith("s"):
        unit = unit.removesuffix("s")
    return f"{text} {unit}"


@login_required
def overview(request):
    """The numbers that matter and the diagnoses first; each section a click away."""
    _require(bool(access.sections(request.user)))
    insight_filter = InsightFilter.for_request(request, section="overview")
    valid = insight_filter.is_valid()
    context = _context(request, insight_filter, valid, "overview")
    context["title"] = "Insight"
    context["summary_link"] = summary.receives(request.user)
    if valid:
        from .. import health
        from ..models import HealthSettings

        scope = insight_filter.scope()
        settings = HealthSettings.load() if access.may_see(request.user, "health") else None
        counts = overview_counts(scope, settings)
        context.update(scope=scope, numbers=_numbers(scope, _retention_scope(insight_filter, scope), counts))
        if settings is not None:
            from .. import answers

            checked_at = answers.minute(timezone.now())
            context["checked_at"] = checked_at
            context["diagnoses"] = [
                {"d": d, "value": with_unit(d.value, d.unit), "threshold": with_unit(d.threshold, d.unit)}
                for d in health.diagnose(
                    scope, settings=settings, now=checked_at, query=insight_filter.query(), counts=counts
                )
            ]
    return _render(request, context, "insight/overview.html", "insight/_overview.html", 200 if valid else 400)


# -- the sections -------------------------------------------------------------------------------


def _build(section: str, key: str, scope: Scope, request) -> tables.Table:
    if key == "slice":
        return tables.funnel_slice(scope, request.GET.get("by") or "campaign")
    return TABLES[section][key](scope)


def _csv(request, section: str, key: str) -> HttpResponse:
    insight_filter = InsightFilter.for_request(request, section=section)
    if not insight_filter.is_valid():
        lines = [f"{field}: {' '.join(errors)}" for field, errors in insight_filter.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    scope = insight_filter.scope()
    if key not in tables.tables_for(section, scope):
        raise Http404
    return tables.csv_response(_build(section, key, scope, request), scope, section)


@login_required
def section(request, section: str):
    """One section's tables and charts (funnel, speed, money, retention)."""
    _require(access.may_see(request.user, section))
    if request.GET.get("format") == "csv":
        return _csv(request, section, request.GET.get("table", ""))
    insight_filter = InsightFilter.for_request(request, section=section)
    valid = insight_filter.is_valid()
    context = _context(request, insight_filter, valid, section)
    context["title"] = SECTION_TITLES[section]
    if valid:
        scope = insight_filter.scope()
        if section == "funnel":
            tables.prepare_funnel(scope, request.GET.get("by") or "campaign")
        built = [_build(section, key, scope, request) for key in tables.tables_for(section, scope)]
        for table in built:
            table.section = section
        context.update(scope=scope, tables=built)
        if section == "funnel":
            by = request.GET.get("by") or "campaign"
            context["slices"] = [
                (key, label, insight_filter.query(by=key), key == by)
                for key, label in tables.slices_for(request.user)
            ]
    return _render(request, context, "insight/section.html", "insight/_section.html", 200 if valid else 400)


@login_required
def table_csv(request, section: str, key: str):
    """``/insight/<section>/<table>.csv``: one table of the page, as the page shows it."""
    _require(access.may_see(request.user, section))
    return _csv(request, section, key)


# -- the rows behind a number ----------------------------------------------------------------------


@login_required
def rows(request, kind: str):
    """The rows behind a diagnosis (the manager's: the health section)."""
    from .. import rows as row_kinds

    _require(access.may_see(request.user, row_kinds.SECTION))
    row_kind = row_kinds.ROWS.get(kind)
    if row_kind is None:
        raise Http404
    insight_filter = InsightFilter.for_request(request, section="rows")
    valid = insight_filter.is_valid()
    context = _context(request, insight_filter, valid, "rows")
    context.update(title=row_kind.title, kind=kind, columns=[c.label for c in row_kind.columns])
    if valid:
        from ..models import HealthSettings

        scope = insight_filter.scope()
        queryset = row_kind.queryset(scope, HealthSettings.load(), timezone.now())
        page = Paginator(queryset, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        tz = scope.period.tz
        page_rows = [
            [_row_cell(row_kinds.cell(obj, column.path), tz) for column in row_kind.columns]
            for obj in page.object_list
        ]
        context.update(scope=scope, page=page, rows=page_rows)
    return _render(request, context, "insight/rows.html", "insight/_rows.html", 200 if valid else 400)


def _row_cell(value, tz) -> Cell:
    from datetime import date, datetime
    from decimal import Decimal

    if value is None or value == "":
        return Cell("—")
    if isinstance(value, datetime):
        return Cell(tables.local_time(value, tz))
    if isinstance(value, date):
        return Cell(f"{value:%-d %b %Y}")
    if isinstance(value, Decimal):
        return Cell(tables.money(value))
    if isinstance(value, bool | int) and not isinstance(value, bool):
        return Cell(tables.count(value))
    href = value.get_absolute_url() if hasattr(value, "get_absolute_url") else ""
    return Cell(str(value), href)
