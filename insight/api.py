"""/api/v1/insight/...: the insight numbers for scripts and dashboards, with the pages'
filters (``InsightFilter``: a bad one is a 400 naming the field) and the pages' numbers (the
same functions compute both). Each endpoint belongs to a section; a role without it gets 403.

A filter that does not narrow an endpoint's numbers is a 400 naming it (retention counts
contracts: campaign, channel, team, SDR, origin and fit do not apply there; its account manager,
``am``, applies there only), so a script never reads an unfiltered answer as a filtered one.
Retention's default period is the last 12 months; the others' the last 30 days.
"""

from dataclasses import replace

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from . import access, tables
from . import serializers as s
from .filters import InsightFilter
from .scope import Scope

SECTION_OF = {
    "funnel": "funnel",
    "speed": "speed",
    "decay": "speed",
    "money": "money",
    "pipeline": "money",
    "retention": "retention",
    "health": "health",
}


class SeesSection(permissions.BasePermission):
    message = "Your role does not see this part of Insight."

    def has_permission(self, request, view):
        section = SECTION_OF.get(getattr(view, "action", None) or "")
        return section is not None and access.may_see(request.user, section)


def _get(serializer, query=s.InsightQuerySerializer, doc: str = ""):
    return extend_schema(parameters=[query], responses=serializer, description=doc)


class InsightViewSet(viewsets.ViewSet):
    """The insight numbers over a period (default: the last 30 days in your team's time zone,
    the last 12 months for retention)."""

    permission_classes = [permissions.IsAuthenticated, SeesSection]
    pagination_class = None

    def _scope(self) -> Scope:
        section = SECTION_OF[self.action]
        insight_filter = InsightFilter.for_request(self.request, self.request.query_params, section=section)
        refused = insight_filter.not_applicable()
        if refused:
            why = (
                "its numbers are contracts, not leads"
                if section == "retention"
                else "it narrows contracts (retention), not leads"
            )
            raise ValidationError({name: [f"Does not apply to {section}: {why}."] for name in refused})
        if not insight_filter.is_valid():
            raise ValidationError(insight_filter.errors)
        return insight_filter.scope()

    def _answer(self, serializer, **data) -> Response:
        return Response(serializer(data).data)

    @_get(s.FunnelSerializer, s.SliceQuerySerializer, "The funnel: cohort, flow, a slice, dispositions.")
    @action(detail=False, methods=["get"])
    def funnel(self, request):
        from . import funnel

        scope = self._scope()
        allowed = dict(tables.slices_for(request.user))
        by = request.query_params.get("by") or "campaign"
        if by not in allowed:
            raise ValidationError({"by": [f"Choose one of: {', '.join(allowed)}."]})
        return self._answer(
            s.FunnelSerializer,
            period=scope.period,
            cohort=funnel.cohort(scope),
            flow=funnel.flow(scope),
            slice={"by": by, "rows": funnel.by_slice(scope, by)},
            dispositions=funnel.dispositions(scope),
        )

    @_get(
        s.SpeedSerializer,
        doc="Speed to lead (capture or routing to first touch): median and 90th percentile.",
    )
    @action(detail=False, methods=["get"])
    def speed(self, request):
        from . import speed

        scope = self._scope()
        shown = tables.tables_for("speed", scope)
        overall = speed.speed(scope)
        return self._answer(
            s.SpeedSerializer,
            period=scope.period,
            overall=overall[0] if overall else None,
            **{
                f"by_{by}": speed.speed(scope, by=by) if f"speed-{by}" in shown else []
                for by in ("rep", "team", "channel", "week")
            },
        )

    @_get(s.DecaySerializer, doc="Conversion by time to first touch (the decay curve).")
    @action(detail=False, methods=["get"])
    def decay(self, request):
        from . import speed

        scope = self._scope()
        return self._answer(s.DecaySerializer, period=scope.period, buckets=speed.decay(scope))

    @_get(s.MoneySerializer, doc="Spend, leads, qualified opportunities and wins by campaign and channel.")
    @action(detail=False, methods=["get"])
    def money(self, request):
        from . import money

        scope = self._scope()
        return self._answer(
            s.MoneySerializer,
            period=scope.period,
            total=money.total(scope),
            by_campaign=money.by_campaign(scope),
            by_channel=money.by_channel(scope),
        )

    @_get(s.PipelineSerializer, doc="Qualified pipeline created per local month.")
    @action(detail=False, methods=["get"])
    def pipeline(self, request):
        from . import money

        scope = self._scope()
        return self._answer(s.PipelineSerializer, period=scope.period, months=money.pipeline_by_month(scope))

    @_get(
        s.RetentionSerializer,
        s.RetentionQuerySerializer,
        "Gross and net revenue retention, churn and expansion of the contracts whose term ended in "
        "the period (default: the last 12 months), of one account manager's accounts with `am`. "
        "Only the period and `am` apply: a lead filter (campaign, channel, source, team, sdr, "
        "origin, fit_grade) is a 400 naming it.",
    )
    @action(detail=False, methods=["get"])
    def retention(self, request):
        from . import retention

        scope = self._scope()
        shown = tables.tables_for("retention", scope)
        return self._answer(
            s.RetentionSerializer,
            period=scope.period,
            total=retention.total(scope),
            by_month=retention.by_month(scope),
            by_am=retention.by_am(scope) if "by-am" in shown else [],
            churn_reasons=retention.churn_reasons(scope),
        )

    @_get(s.HealthSerializer, doc="The refinery's diagnoses, the triggered ones first.")
    @action(detail=False, methods=["get"])
    def health(self, request):
        from . import answers, health

        scope = self._scope()
        checked_at = answers.minute(timezone.now())
        diagnoses = [
            replace(d, link=request.build_absolute_uri(d.link) if d.link else d.link)
            for d in health.diagnose(scope, now=checked_at)
        ]
        return self._answer(
            s.HealthSerializer, period=scope.period, checked_at=checked_at, diagnoses=diagnoses
        )


def register(router) -> None:
    router.register("insight", InsightViewSet, basename="insight")
