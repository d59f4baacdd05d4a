"""What an opportunity export holds (``kit.exporting``): the pipeline's and the opportunities
API's rows with their account, contact, AE, SDR and campaign joined in the one query."""

from kit.display import currency
from kit.exporting import Column, Export, amount, day, labels, person, utc, yes_no

from .models import Opportunity, Qualification


def _user(header: str, relation: str) -> Column:
    keys = (f"{relation}__first_name", f"{relation}__last_name", f"{relation}__username")
    return Column.of(header, *keys, format=person)


OPPORTUNITY_EXPORT = Export(
    [
        Column.of("id"),
        Column.of("name"),
        Column.of("status", format=labels(Opportunity.Status.choices)),
        Column.of("stage", "stage__name"),
        Column.of("kind", format=labels(Opportunity.Kind.choices)),
        Column.of("origin", format=labels(Opportunity.Origin.choices)),
        Column.of("account id", "account_id"),
        Column.of("account", "account__name"),
        Column.of("account domain", "account__domain"),
        Column.of("contact", "contact__first_name", "contact__last_name", "contact__email", format=person),
        Column.of("contact email", "contact__email"),
        Column.of("lead id", "lead_id"),
        _user("AE", "owner"),
        _user("SDR", "sdr"),
        Column.of("campaign", "campaign__name"),
        Column.of("amount", format=amount),
        Column.constant("currency", currency),
        Column.of("close date", "close_date", format=day),
        Column.of("next step", "next_step"),
        Column.of("budget", format=labels(Qualification.choices)),
        Column.of("authority", format=labels(Qualification.choices)),
        Column.of("need", format=labels(Qualification.choices)),
        Column.of("timing", format=labels(Qualification.choices)),
        Column.of("asked for a meeting", "asked_for_meeting", format=yes_no),
        Column.of("handed off at (UTC)", "handed_off_at", format=utc),
        Column.of("accepted at (UTC)", "accepted_at", format=utc),
        Column.of("rejected at (UTC)", "rejected_at", format=utc),
        Column.of("reject reason", "reject_reason"),
        Column.of("closed at (UTC)", "closed_at", format=utc),
        Column.of("lost reason", "lost_reason"),
        Column.of("early loss", "early_loss", format=yes_no),
        Column.of("updated at (UTC)", "updated_at", format=utc),
    ]
)
