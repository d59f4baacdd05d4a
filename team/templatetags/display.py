"""``{% load display %}``: the one way templates show a moment, a day and an amount
(``kit.display`` says the formats). A moment is shown in the active zone, the viewer's
(``team.middleware.ViewerZoneMiddleware``) or an email's recipient's, with its abbreviation.

    {{ lead.captured_at|when }}      Mon 7 Dec 2026, 09:30 CET
    {{ contract.end_date|day }}      Thu 31 Dec 2026
    {{ opportunity.amount|money }}   €12,000
    <time datetime="{{ item.due_at|iso }}">   machine-readable, UTC
"""

from django import template

from kit import display

register = template.Library()


@register.filter
def when(value) -> str:
    return display.when_text(value)


@register.filter
def day(value) -> str:
    return display.day_text(value)


@register.filter
def money(value) -> str:
    try:
        return display.money_text(value)
    except ArithmeticError:  # not a number (decimal.InvalidOperation): shown as it is, no 500
        return str(value)


@register.filter
def iso(value) -> str:
    return display.iso_text(value)
