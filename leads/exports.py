"""What a lead export holds (``kit.exporting``): every field a person would want back from the
lead list, read in the list's one query (campaign, owner and team names joined)."""

from kit.display import currency
from kit.exporting import Column, Export, amount, labels, person, utc, yes_no

from .models import Channel, Lead, Seniority

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
        Column.of("source system", "external_system"),
        Column.of("source id", "external_id"),
        Column.of("source status", "external_status"),
        Column.of("first seen at (UTC)", "first_seen_at", format=utc),
        Column.of("captured at (UTC)", "captured_at", format=utc),
        Column.of("MQL at (UTC)", "mql_at", format=utc),
        Column.of("status changed at (UTC)", "status_changed_at", format=utc),
        Column.of("updated at (UTC)", "updated_at", format=utc),
    ]
)
