"""What a row of the AE's inbox shows beyond the opportunity's fields: its acceptance item and
SLA badge, the lead's grade now, the proposed meeting in the AE's zone, whether it still waits
for an answer; and after a refused answer, the error and the refused reject form."""

from dataclasses import dataclass, replace
from datetime import datetime

from django import forms
from django.urls import reverse
from django.utils.html import format_html_join

from kit.html import url_maker
from sdr.views import sla_display
from work.models import WorkItem

from ..models import REJECT_REASONS, Opportunity

# The blank reject form's reasons, written once: the same options in every row (a loop over
# them in each row's template was a fifth of the variables an inbox renders).
REJECT_OPTIONS = format_html_join("", '<option value="{}">{}</option>', ((r, r) for r in REJECT_REASONS))


@dataclass(frozen=True)
class InboxRow:
    """One handoff as the inbox lists it."""

    opportunity: Opportunity
    accept_item: WorkItem | None  # the open acceptance item, else the latest one
    sla_css: str
    sla_text: str
    countdown: str
    grade: str  # the lead's grade now ("" without a lead)
    waiting: bool  # still handed off: the accept and reject forms apply
    # Its links, reversed once for the whole list (``kit.html.url_maker``): the template's url
    # tags, seven a row, were a sixth of the inbox's server time (cProfile).
    url: str = ""
    accept_url: str = ""
    reject_url: str = ""
    inbox_url: str = ""
    error: str = ""
    # The template writes the blank form (a form object per row costs more to render than the
    # rest of the row); a refused one is set here.
    reject_form: forms.Form | None = None

    def refused(self, error: str = "", form: forms.Form | None = None) -> "InboxRow":
        """The row with a refusal beside it (and the refused form, when there is one)."""
        return replace(self, error=error, reject_form=form if form is not None else self.reject_form)


def inbox_rows(opportunities, now: datetime, half_life: float) -> list[InboxRow]:
    """The rows of ``opportunities`` (their acceptance items prefetched as ``accept_items``,
    their lead selected), without a query per row."""
    page, accept, reject = (
        url_maker("accounts:opportunity"),
        url_maker("accounts:accept"),
        url_maker("accounts:reject"),
    )
    inbox_url = reverse("accounts:inbox")
    rows = []
    for opportunity in opportunities:
        items = opportunity.accept_items
        item = next((i for i in items if i.is_open), None) or next(iter(items), None)
        rows.append(
            InboxRow(
                opportunity,
                item,
                *(sla_display(item, now) if item else ("", "", "")),
                grade=opportunity.lead.grade(now, half_life) if opportunity.lead_id else "",
                waiting=opportunity.status == Opportunity.Status.HANDED_OFF,
                url=page(opportunity.pk),
                accept_url=accept(opportunity.pk),
                reject_url=reject(opportunity.pk),
                inbox_url=inbox_url,
            )
        )
    return rows


def with_refusal(rows: list[InboxRow], pk, error: str, form: forms.Form | None = None) -> list[InboxRow]:
    """``rows`` with a refusal beside the row of opportunity ``pk``, when it is among them."""
    return [row.refused(error, form) if row.opportunity.pk == pk else row for row in rows]
