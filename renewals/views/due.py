"""The renewals page: the renewals coming due in 30, 60 and 90 days (and those past their
end, still open), the value at stake and what puts each at risk; an AM's own, a manager's
AMs' with a filter by AM. Its expansion-lead list is ``views.expansion``'s."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    IntegerField,
    Prefetch,
    QuerySet,
    Value,
    When,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kit.display import day_text
from kit.html import url_maker
from kit.htmx import is_htmx
from kit.live import live_etag, mark, not_modified, poll_seconds
from kit.pages import money_text, query_string
from leads.models import ScoringSettings
from sdr.views import item_lines
from team.zones import user_zone
from work.models import WorkItem

from ..access import (
    account_managers_for,
    can_manage_accounts,
    looks_across_ams,
    sees_every_am,
)
from ..due import BUCKETS, Risk, bucket_of, bucket_q, due_contracts
from ..filters import RenewalFilter
from ..models import Contract, RenewalSettings
from ..presenters import RenewalRow, expansion_fingerprint, expansion_items_for
from ..services import RENEWAL_ITEM_KINDS

# Rows a bucket shows on the overview, most urgent first; the rest are a click away, a page of
# the bucket each. 50 a bucket rendered 150 rows (129 KiB): 101 ms at p95 for an AM with 2,563
# contracts, four fifths of it Python and template.
ROWS_PER_BUCKET = 20


# --- the renewals page ----------------------------------------------------------------------


@dataclass
class Bucket:
    """Renewals due within ``days`` (and after the previous bucket): totals and first rows."""

    days: int
    title: str
    count: int = 0
    value: Decimal = Decimal(0)
    risk_count: int = 0
    risk_value: Decimal = Decimal(0)
    rows: list = field(default_factory=list)
    query: str = ""

    @property
    def more(self) -> int:
        return self.count - len(self.rows)

    @property
    def value_text(self) -> str:
        return money_text(self.value or 0)

    @property
    def risk_value_text(self) -> str:
        return money_text(self.risk_value or 0)


def _totals(scope: QuerySet[Contract], risk: Risk, today: date, buckets: list[Bucket]) -> None:
    """Counts and value at stake per bucket, all and at risk: one grouped query.

    The risk test is computed once per contract in a subquery that PostgreSQL must not pull
    up (OFFSET 0): pulled up, each aggregate reading it ran its subqueries again (a manager's
    totals at 100,000 contracts took twice as long)."""
    whens = [When(bucket_q(days, today), then=Value(days)) for days, _ in BUCKETS]
    per_contract = (
        scope.annotate(
            bucket=Case(*whens, output_field=IntegerField()),
            at_risk=ExpressionWrapper(risk.any, output_field=BooleanField()),
        )
        .order_by()
        .values("bucket", "annual_value", "at_risk")
    )
    sql, params = per_contract.query.sql_with_params()
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bucket, COUNT(*), SUM(annual_value),"
            " SUM(CASE WHEN at_risk THEN 1 ELSE 0 END), SUM(CASE WHEN at_risk THEN annual_value ELSE 0 END)"
            f" FROM ({sql}{fence}) AS per_contract GROUP BY bucket",
            params,
        )
        rows = cursor.fetchall()
    by_days = {b.days: b for b in buckets}
    for days, count, value, risk_count, risk_value in rows:
        bucket = by_days.get(days)
        if bucket is not None:
            bucket.count, bucket.value = count, _decimal(value)
            bucket.risk_count, bucket.risk_value = risk_count or 0, _decimal(risk_value)


def _decimal(value) -> Decimal:
    """A sum as an amount (SQLite sums decimals as floats)."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _rows(ids: list[int], risk: Risk, now: datetime, today: date, tz) -> list[RenewalRow]:
    """The rows with what they show: one query, and one for their open renewal items."""
    if not ids:
        return []
    open_items = WorkItem.objects.filter(state=WorkItem.State.OPEN, kind__in=RENEWAL_ITEM_KINDS).order_by(
        "due_at", "id"
    )
    contracts = (
        risk.scope(Contract.objects.filter(pk__in=ids))
        .select_related("account__account_manager")
        .annotate(**risk.flags())
        .prefetch_related(Prefetch("work_items", queryset=open_items, to_attr="open_items"))
        .order_by("end_date", "id")
    )
    contract_url, account_url = url_maker("renewals:contract"), url_maker("renewals:account")
    return [
        RenewalRow(
            contract=c,
            days=c.days_left(today),
            value_text=money_text(c.annual_value),
            reasons=risk.reasons(c),
            talked_text=day_text(c.renewal_activity_at, tz),
            # Reversed once for the rows (kit.html.url_maker), not by the template's url tag.
            url=contract_url(c.pk),
            account_url=account_url(c.account_id),
            items=item_lines(c.open_items, now),
        )
        for c in contracts
    ]


def _renewals_context(request) -> tuple[dict, int]:
    user = request.user
    params = request.GET
    now = timezone.now()
    today = timezone.localdate(now)
    tz = user_zone(user)
    windows, scoring = RenewalSettings.load(), ScoringSettings.load()
    risk = Risk(now=now, today=today, start_days=windows.start_days, scoring=scoring)
    ams = list(account_managers_for(user)) if looks_across_ams(user) else None
    # One FilterSet with the API (``renewals.filters``): a refused value is shown and left out.
    renewals = RenewalFilter(
        params,
        queryset=risk.scope(due_contracts(user, ams, today)),
        request=request,
        risk=risk,
        today=today,
        ams=ams,
    )
    errors = (
        []
        if renewals.is_valid()
        else [str(e) for field_errors in renewals.errors.values() for e in field_errors]
    )
    scope = renewals.qs
    chosen = renewals.form.cleaned_data
    chosen_am = chosen.get("am") if ams is not None else None
    risk_only = chosen.get("risk") == "1"
    one = chosen.get("bucket") or ""

    base_query = query_string(params, drop=("page", "bucket"))
    buckets = [
        Bucket(days, title, query=query_string(params, drop=("page",), bucket=str(days)))
        for days, title in BUCKETS
        if not one or str(days) == one
    ]
    _totals(scope, risk, today, buckets)
    page = None
    if one:
        bucket = buckets[0]
        ordered = scope.filter(bucket_q(bucket.days, today)).order_by("end_date", "id")
        page = Paginator(ordered.values_list("pk", flat=True), ROWS_PER_BUCKET).get_page(params.get("page"))
        bucket.rows = _rows(list(page.object_list), risk, now, today, tz)
    else:
        parts = [
            scope.filter(bucket_q(b.days, today))
            .order_by("end_date", "id")
            .values_list("pk", flat=True)[:ROWS_PER_BUCKET]
            for b in buckets
        ]
        if connection.features.supports_slicing_ordering_in_compound:
            ids = list(parts[0].union(*parts[1:], all=True))
        else:  # SQLite takes no LIMIT inside a UNION: a query per bucket
            ids = [pk for part in parts for pk in part]
        for row in _rows(ids, risk, now, today, tz):
            next(b for b in buckets if b.days == bucket_of(row.contract.end_date, today)).rows.append(row)

    context = {
        "buckets": buckets,
        "page": page,
        "one_bucket": bool(one),
        "ams": ams,
        "chosen_am": chosen_am,
        "risk_only": risk_only,
        "errors": errors,
        "today": today,
        "base_query": base_query,
        "page_query": query_string(params, drop=("page",)),
        "total_value": money_text(sum((b.value for b in buckets), Decimal(0)) or 0),
        "total_risk": money_text(sum((b.risk_value for b in buckets), Decimal(0)) or 0),
        "risk_count": sum(b.risk_count for b in buckets),
        "count": sum(b.count for b in buckets),
        "show_am": looks_across_ams(user),
        "no_am_team": ams == [] and not sees_every_am(user),
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        "start_days": windows.start_days,
        "cold_threshold": scoring.cold_threshold,
        "now": now,
    }
    return context, 400 if errors else 200


@login_required
@require_GET
def renewals(request):
    """The renewals coming due in 30, 60 and 90 days (and those past their end, still open),
    with the value at stake and what puts each at risk. An AM's own; a manager's AMs', with a
    filter by AM."""
    if not can_manage_accounts(request.user):
        raise PermissionDenied("Renewals are the account managers' and their managers'.")
    context, status = _renewals_context(request)
    if is_htmx(request) and request.headers.get("HX-Target") == "renewal-results":
        return render(request, "renewals/_renewal_results.html", context, status=status)
    # The expansion leads (people at their customers asking for more): on the full page only,
    # kept live by ``expansion_live``.
    context["expansion_items"] = expansion_items_for(request.user, now=context["now"])
    context["live_etag"] = _expansion_etag(request)
    context["live_interval"] = poll_seconds()
    return render(request, "renewals/renewals.html", context, status=status)


@login_required
@require_GET
def expansion_live(request):
    """What the open renewals page polls: 304 while the expansion leads waiting for the AM (a
    manager: their AM teams') are the same, else the list again."""
    if not can_manage_accounts(request.user):
        raise PermissionDenied("Renewals are the account managers' and their managers'.")
    etag = _expansion_etag(request)
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    context = {"expansion_items": expansion_items_for(request.user)}
    return mark(render(request, "renewals/_expansion_leads.html", context), etag)


def _expansion_etag(request) -> str:
    return live_etag(request, "renewals.expansion", expansion_fingerprint(request.user))
