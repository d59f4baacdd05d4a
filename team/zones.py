"""Which time zone a person's or a team's times are shown in: their team calendar's, UTC
without a team. One lookup for every page (a zone name the database holds but this Python
does not know falls back to UTC instead of failing the page)."""

from zoneinfo import ZoneInfo

from .models import Team

UTC = ZoneInfo("UTC")


def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return UTC


def team_zone(team_id: int | None) -> ZoneInfo:
    """The zone of the team ``team_id`` (one small query; UTC for no team)."""
    if not team_id:
        return UTC
    return zone_named(Team.objects.filter(pk=team_id).values_list("calendar__timezone", flat=True).first())


def user_zone(user) -> ZoneInfo:
    """The zone of ``user``'s team (one small query; UTC without a team or signed out)."""
    return team_zone(getattr(user, "team_id", None) if getattr(user, "is_authenticated", False) else None)
