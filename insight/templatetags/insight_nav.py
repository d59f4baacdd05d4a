"""``{% insight_sections user as sections %}``: whether (and where) the navigation links to
Insight, without a query (the sections follow the role alone)."""

from django import template

from insight import access

register = template.Library()


@register.simple_tag
def insight_sections(user) -> tuple[str, ...]:
    return access.sections(user)
