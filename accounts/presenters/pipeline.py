"""What the pipeline shows: the board's columns and their cards, and the list's rows.

A card is computed here rather than in the template (links, amounts and dates as text): at a
few hundred cards the template's url tags and filters were most of the board's time. For the
same reason a column's stage options are rendered once per column, from a template fragment,
rather than once per card.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from kit.html import url_maker
from kit.pages import money_text

from ..models import Opportunity, Stage

STAGE_OPTIONS = "accounts/_stage_options.html"


@dataclass(frozen=True)
class Card:
    """One opportunity on the board: what it shows, whether this user may work it (move it,
    edit it), the stage options of its column, and the mode the card is in ("view", "lost":
    the lost form open, "edit": the details form) with a refusal and the refused forms."""

    opportunity: Opportunity
    days_in_stage: int | None
    url: str
    move_url: str
    details_url: str
    amount_text: str
    close_text: str
    closed_text: str
    workable: bool = False
    options: SafeString | str = ""
    mode: str = "view"
    error: str = ""
    move_form: forms.Form | None = None
    details_form: forms.Form | None = None


def card_urls() -> tuple[Callable[[int], str], ...]:
    """A card's links (its page, its move and its details), each reversed once for a board."""
    return url_maker("accounts:opportunity"), url_maker("accounts:move"), url_maker("accounts:details")


def board_card(
    opportunity: Opportunity, now: datetime, urls: tuple[Callable[[int], str], ...] | None = None, **shown
) -> Card:
    """``opportunity`` (annotated with ``stage_since``) as its card shows it; ``urls`` from
    ``card_urls()`` when there are many cards."""
    close, closed = opportunity.close_date, opportunity.closed_at
    page, move, details = urls or card_urls()
    return Card(
        opportunity,
        days_in_stage=days_since(opportunity.stage_since, now),  # type: ignore[attr-defined]  # annotated by with_stage_since
        url=page(opportunity.pk),
        move_url=move(opportunity.pk),
        details_url=details(opportunity.pk),
        amount_text=money_text(opportunity.amount),
        close_text=f"{close.day} {close:%b %Y}" if close else "",
        closed_text=f"{closed.day} {closed:%b}" if closed else "",
        **shown,
    )


def days_since(since: datetime | None, now: datetime) -> int | None:
    """Whole days from ``since`` to ``now`` (None without ``since``)."""
    return None if since is None else max(0, (now - since).days)


def stage_options(movable: list[Stage], current: Stage | None) -> SafeString:
    """A card's stage options (a stage an admin retired stays listed for the cards still in
    it), rendered once for a column's cards."""
    choices = movable if current is None or current in movable else [current, *movable]
    html = render_to_string(STAGE_OPTIONS, {"choices": choices, "current": current})
    return mark_safe(html.rstrip("\n"))  # the fragment's file ends with a newline; the select does not


@dataclass(frozen=True)
class Column:
    """One board column: an open stage, or the recent wins or losses; how many cards it has in
    all, their total amount and (an open stage's) weighted amount, and the first cards."""

    kind: str  # "open", "won" or "lost"
    title: str
    stage: Stage | None = None
    count: int = 0
    total: object = None
    weighted: object = None  # the amounts times the stage's probability (forecast)
    cards: tuple[Card, ...] = field(default=())
    more_query: str = ""  # the list view narrowed to this column

    @property
    def drop(self) -> str:
        """What a card dropped on this column asks for: a move to the stage ("stage"), the lost
        form ("lost"), or nothing (a won column with no active won stage)."""
        if self.kind == "lost":
            return "lost"
        return "stage" if self.stage is not None and (self.kind == "won" or self.stage.is_active) else ""

    @property
    def more(self) -> int:
        return self.count - len(self.cards)

    @property
    def dom_id(self) -> str:
        return f"col-{self.stage.pk}" if self.kind == "open" else f"col-{self.kind}"  # type: ignore[union-attr]  # an open column has its stage


def board_columns(
    columns: list[Column],
    opportunities: Iterable[Opportunity],
    now: datetime,
    movable: list[Stage],
    workable: set | None,
) -> list[Column]:
    """``columns`` (without cards yet) with their cards: an open stage's by expected close date,
    the wins' and losses' newest first. ``workable``: the owners whose cards this user may work
    (None: all)."""
    by_column: dict = {}
    for opportunity in opportunities:
        key = opportunity.stage_id if opportunity.status == Opportunity.Status.OPEN else opportunity.status
        by_column.setdefault(key, []).append(opportunity)
    filled = []
    urls = card_urls()
    options: str
    for column in columns:
        if column.kind == "open":
            options = stage_options(movable, column.stage)
            shown = sorted(by_column.get(column.stage.pk, []), key=_close_date_key)  # type: ignore[union-attr]  # an open column has its stage
        else:
            options = ""
            shown = sorted(by_column.get(column.kind, []), key=lambda o: (o.closed_at, o.pk), reverse=True)
        cards = tuple(
            board_card(o, now, urls, options=options, workable=workable is None or o.owner_id in workable)
            for o in shown
        )
        filled.append(replace(column, cards=cards))
    return filled


def _close_date_key(opportunity: Opportunity) -> tuple:
    return (opportunity.close_date is None, opportunity.close_date or date.min, opportunity.pk)


@dataclass(frozen=True)
class ListRow:
    """One opportunity in the pipeline's list: its days in stage (open ones), its amount and its
    link."""

    opportunity: Opportunity
    days_in_stage: int | None
    amount_text: str
    url: str = ""


def list_rows(opportunities: Iterable[Opportunity], now: datetime) -> list[ListRow]:
    """``opportunities`` annotated with ``stage_since``, as the list shows them."""
    page = url_maker("accounts:opportunity")
    return [
        ListRow(
            o,
            days_in_stage=days_since(o.stage_since, now) if o.status == Opportunity.Status.OPEN else None,  # type: ignore[attr-defined]  # annotated by with_stage_since
            amount_text=money_text(o.amount),
            url=page(o.pk),
        )
        for o in opportunities
    ]
