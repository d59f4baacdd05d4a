"""What a lead export holds (``kit.exporting``): every field a person would want back from the
lead list, read in the list's one query (campaign, owner and team names joined)."""

from django.db.models import Aggregate, CharField, OuterRef, Subquery

from kit.display import currency
from kit.exporting import Column, Export, amount, labels, person, utc, yes_no

from .models import Channel, Lead, Seniority


class _Names(Aggregate):
    """Names joined with ", ": in alphabetical order on PostgreSQL (``STRING_AGG``); on SQLite
    (``GROUP_CONCAT``, whose ``ORDER BY`` needs 3.44) in the order SQLite reads them."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="STRING_AGG(%(expressions)s, ', ' ORDER BY %(expressions)s)",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="GROUP_CONCAT(%(expressions)s, ', ')", **extra)


def _tag_names() -> Subquery:
    """A lead's tags, as one cell: a correlated subquery over the lead's links (their unique
    index), so the export stays one query."""
    # No order_by here: its field would join the GROUP BY (a group per tag); the aggregate orders.
    links = Lead.tags.through.objects.filter(lead_id=OuterRef("pk")).order_by()
    names = links.values("lead_id").annotate(names=_Names("tag__name"))
    # django-stubs does not see an annotation made after values(): it is there.
    return Subquery(names.values("names")[:1])  # type: ignore[misc]


LEAD_EXPORT = Export(
    [
        Column.of("id"),
        Column.of("first name", "first_name"),
        Column.of("last name", "last_name"),
        Column.of("email"),
        Column.of("phone"),
        Column.of("company"),
        Column.of("title"),
        Column.of("seniority", format=labels(Seniority.choices)),
        Column.of("industry"),
        Column.of("employees"),
        Column.of("annual revenue", "annual_revenue", format=amount),
        Column.constant("currency", currency),
        Column.of("country"),
        Column.of("status", format=labels(Lead.Status.choices)),
        Column.of("status reason", "status_reason"),
        Column.of("fit grade", "fit_grade"),
        Column.of("fit score", "fit_score"),
        Column.of("rating"),
        Column.of("hand-raiser", "hand_raiser", format=yes_no),
        Column.of("campaign", "campaign__name"),
        Column.of("source", format=labels(Channel.choices)),
        Column.of("owner", "owner__first_name", "owner__last_name", "owner__username", format=person),
        Column.of("owner email", "owner__email"),
        Column.of("team", "team__name"),
        Column.of("tags", "tag_names"),
        Column.of("source system", "external_system"),
        Column.of("source id", "external_id"),
        Column.of("source status", "external_status"),
        Column.of("first seen at (UTC)", "first_seen_at", format=utc),
        Column.of("captured at (UTC)", "captured_at", format=utc),
        Column.of("MQL at (UTC)", "mql_at", format=utc),
        Column.of("status changed at (UTC)", "status_changed_at", format=utc),
        Column.of("updated at (UTC)", "updated_at", format=utc),
    ],
    annotations={"tag_names": _tag_names()},
)
