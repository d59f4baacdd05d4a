"""The money tables' rows: by campaign, by channel and for the whole period, each the spend
(``costs``) beside the cohort's counts (``cohort``), most spend first."""

from decimal import Decimal

from leads.models import Channel

from ..scope import Scope
from .cohort import measure
from .costs import spent_cents
from .figures import MoneyRow, from_cents, to_cent

NO_CAMPAIGN = "No campaign"


def _row(key, label, spend_cents, counts: dict | None) -> MoneyRow:
    counts = counts or {}
    return MoneyRow(
        key=key,
        label=label,
        spend=from_cents(spend_cents),
        leads=counts.get("leads") or 0,
        mqls=counts.get("mqls") or 0,
        qualified=counts.get("qualified") or 0,
        won=counts.get("won") or 0,
        pipeline=to_cent(counts.get("pipeline")),
        won_amount=to_cent(counts.get("won_amount")),
    )


def _ordered(rows: list[MoneyRow]) -> list[MoneyRow]:
    """Most spend first, then most leads; the leads with no campaign (or channel) last."""
    return sorted(rows, key=lambda r: (r.key is None or r.key == "", -r.spend, -r.leads, r.label.lower()))


def by_campaign(scope: Scope) -> list[MoneyRow]:
    """One row per campaign that ran in the period or brought leads captured in it (and one
    for the leads with no campaign). The cohort's counts come from ``measure``; the spend is
    one small query."""
    spent = spent_cents(scope, "campaign")
    counts = measure(scope, ["campaign"])["campaign"]
    rows = []
    for key in spent.keys() | counts.keys():
        name = (spent.get(key) or (None,))[0] or (counts.get(key) or {}).get("name")
        label = NO_CAMPAIGN if key is None else name or f"Campaign {key}"
        rows.append(_row(key, label, (spent.get(key) or (None, None))[1], counts.get(key)))
    return _ordered(rows)


def channel_label(key: str) -> str:
    if not key:
        return NO_CAMPAIGN
    try:
        return Channel(key).label
    except ValueError:
        return key


def by_channel(scope: Scope) -> list[MoneyRow]:
    """One row per channel with spend or leads in the period (the leads with no campaign have
    no channel). The counts come from ``measure``; the spend is one small query."""
    spent = spent_cents(scope, "channel")
    counts = measure(scope, ["channel"])["channel"]
    rows = [
        _row(key, channel_label(key), spent.get(key), counts.get(key)) for key in spent.keys() | counts.keys()
    ]
    return _ordered(rows)


def total(scope: Scope) -> MoneyRow:
    """The whole period: every campaign's spend and the whole cohort (``measure``'s)."""
    return _row("total", "All campaigns", _spend_of(scope), measure(scope, ["total"])["total"])


def spend(scope: Scope) -> Decimal:
    """The period's spend over the campaigns the filters leave (``total``'s). One query."""
    return from_cents(_spend_of(scope))


def _spend_of(scope: Scope):
    return spent_cents(scope, "total")["total"]
