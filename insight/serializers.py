"""What /api/v1/insight/... answers: the same rows the pages show, as numbers (durations in
seconds, money as decimal strings, rates as fractions), and the query parameters they read
(documented from ``InsightQuerySerializer``; ``InsightFilter`` validates them)."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.models import Channel

from .filters import FIT_GRADES, PRESETS
from .models import LeadFact


def seconds(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds())


class PeriodQuerySerializer(serializers.Serializer):
    """The period, which every insight endpoint takes."""

    start = serializers.DateField(
        required=False, help_text="The period's first day, in your team's time zone."
    )
    end = serializers.DateField(
        required=False, help_text="The period's last day (included); at most 366 days after the start."
    )
    preset = serializers.ChoiceField(
        choices=PRESETS,
        required=False,
        help_text="Used when no start or end is given; default 30d (12m for retention: this month so far "
        "and the 11 before it).",
    )


class RetentionQuerySerializer(PeriodQuerySerializer):
    """Retention's parameters: the period and the account manager (its numbers are contracts,
    not leads)."""

    am = serializers.IntegerField(
        required=False,
        help_text="An account manager's id (active or not): only the contracts of the accounts they "
        "manage. Managers choose among the AMs of the teams they manage (superusers any AM); an AM's "
        "numbers are always their own. Another id is a 400.",
    )


class InsightQuerySerializer(PeriodQuerySerializer):
    """The filters the lead endpoints take (the pages' filters)."""

    campaign = serializers.IntegerField(required=False, help_text="A campaign's id.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    source = serializers.ChoiceField(choices=Channel.choices, required=False)  # type: ignore[assignment]  # a declared field, not Field.source
    team = serializers.IntegerField(required=False, help_text="A team's id.")
    sdr = serializers.IntegerField(
        required=False, help_text="An SDR's id (managers only; an SDR's numbers are always their own)."
    )
    origin = serializers.ChoiceField(choices=LeadFact.Origin.choices, required=False)
    fit_grade = serializers.ChoiceField(choices=FIT_GRADES, required=False)


class SliceQuerySerializer(InsightQuerySerializer):
    by = serializers.CharField(
        required=False,
        help_text="Slice the cohort by campaign (default), channel, source, team, sdr (managers), "
        "origin or fit_grade.",
    )


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    timezone = serializers.CharField(source="tz.key")
    label = serializers.CharField(help_text='In words, e.g. "1 Nov 2026 to 30 Nov 2026 (Europe/Berlin)".')  # type: ignore[assignment]  # a declared field, not Field.label


class StageSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    count = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True, help_text="Share of the previous stage (0 to 1).")
    median_from_previous_seconds = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_median_from_previous_seconds(self, row) -> int | None:
        return seconds(row.median_from_previous)


class SliceRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Leads per stage key.")


class SliceSerializer(serializers.Serializer):
    by = serializers.CharField()
    rows = SliceRowSerializer(many=True)


class DispositionSerializer(serializers.Serializer):
    stage = serializers.CharField()
    stage_label = serializers.CharField()
    outcome = serializers.CharField()
    outcome_label = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()


class FunnelSerializer(serializers.Serializer):
    period = PeriodSerializer()
    cohort = StageSerializer(
        many=True,
        help_text="The leads first seen in the period (an imported lead: when its source created it), followed to today.",
    )
    flow = StageSerializer(many=True, help_text="What reached each stage in the period.")
    slice = SliceSerializer()
    dispositions = DispositionSerializer(many=True)


class SpeedRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    touches = serializers.IntegerField()
    median_seconds = serializers.SerializerMethodField()
    p90_seconds = serializers.SerializerMethodField()
    median_business_seconds = serializers.SerializerMethodField()
    p90_business_seconds = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_median_seconds(self, row) -> int | None:
        return seconds(row.median)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_p90_seconds(self, row) -> int | None:
        return seconds(row.p90)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_median_business_seconds(self, row) -> int | None:
        return seconds(row.median_business)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_p90_business_seconds(self, row) -> int | None:
        return seconds(row.p90_business)


class SpeedSerializer(serializers.Serializer):
    period = PeriodSerializer()
    overall = SpeedRowSerializer(allow_null=True)
    by_rep = SpeedRowSerializer(many=True, help_text="Managers: every rep; an SDR: themselves.")
    by_team = SpeedRowSerializer(many=True, help_text="Managers only (empty otherwise).")
    by_channel = SpeedRowSerializer(many=True)
    by_week = SpeedRowSerializer(many=True)


class DecayRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    leads = serializers.IntegerField()
    handed_off = serializers.IntegerField()
    accepted = serializers.IntegerField()
    won = serializers.IntegerField()


class DecaySerializer(serializers.Serializer):
    period = PeriodSerializer()
    buckets = DecayRowSerializer(many=True)


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


class MoneyRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    spend = _money()
    leads = serializers.IntegerField()
    mqls = serializers.IntegerField()
    qualified = serializers.IntegerField()
    won = serializers.IntegerField()
    pipeline = _money()
    won_amount = _money()
    cost_per_lead = _money(allow_null=True)
    cost_per_mql = _money(allow_null=True)
    cost_per_qualified = _money(allow_null=True)
    cost_per_won = _money(allow_null=True)
    roi = serializers.FloatField(allow_null=True, help_text="(won amount - spend) / spend.")


class MoneySerializer(serializers.Serializer):
    period = PeriodSerializer()
    total = MoneyRowSerializer()
    by_campaign = MoneyRowSerializer(many=True)
    by_channel = MoneyRowSerializer(many=True)


class MonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    qualified = serializers.IntegerField()
    pipeline = _money()
    won = serializers.IntegerField()
    won_amount = _money()


class PipelineSerializer(serializers.Serializer):
    period = PeriodSerializer()
    months = MonthSerializer(many=True)


class RetentionRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    base = _money()
    renewed = _money()
    expansion = _money()
    contraction = _money()
    churned = _money()
    churned_count = serializers.IntegerField()
    grr = serializers.FloatField(allow_null=True, help_text="Gross revenue retention (0 to 1).")
    nrr = serializers.FloatField(allow_null=True, help_text="Net revenue retention.")


class ChurnReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()
    value = _money()


class RetentionSerializer(serializers.Serializer):
    period = PeriodSerializer()
    total = RetentionRowSerializer()
    by_month = RetentionRowSerializer(many=True)
    by_am = RetentionRowSerializer(many=True, help_text="Managers: every AM; an AM: themselves.")
    churn_reasons = ChurnReasonSerializer(many=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class DiagnosisSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    advice = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField()
    unit = serializers.CharField(allow_blank=True)
    triggered = serializers.BooleanField()
    detail = serializers.CharField(allow_blank=True)
    link = serializers.CharField(help_text="The page listing the rows behind the number.")
    reasons = serializers.SerializerMethodField()

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, diagnosis) -> list[dict]:
        return [{"reason": reason, "count": count} for reason, count in diagnosis.reasons]


class HealthSerializer(serializers.Serializer):
    period = PeriodSerializer()
    checked_at = serializers.DateTimeField(
        help_text="The minute the live checks were counted in (the leads dropped on the floor, the "
        "SDRs' load, this week's breaches, the renewals without a conversation): they are counted "
        "at most once a minute. The other checks count the lead facts."
    )
    diagnoses = DiagnosisSerializer(many=True, help_text="The triggered ones first.")
