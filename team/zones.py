"""Which time zone a person's or a team's times are shown in. One lookup for every page:
``user_zone`` is the person's own preference (``User.timezone``), else their team calendar's,
else UTC (a zone name the database holds but this Python does not know falls back to UTC
instead of failing the page). Only display follows it: SLA due times are computed in the
owner's business calendar (``team.calendar``)."""

from zoneinfo import ZoneInfo

from .models import Team

UTC = ZoneInfo("UTC")

# Where user_zone keeps its answer on the user object: the request's user is one object for
# the whole request, so the middleware, the view and the templates share one lookup.
_MEMO = "_refinery_zone"


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
    """The zone ``user`` reads times in: their preference, else their team calendar's, else UTC
    (signed out too). No query when the preference is set or the team's calendar came with the
    user (``team.backends.UserBackend`` loads it so), else one small query; remembered on the
    user object."""
    if not getattr(user, "is_authenticated", False):
        return UTC
    memo = user.__dict__.get(_MEMO)
    if memo is not None and memo[0] == (user.timezone, user.team_id):
        return memo[1]
    if user.timezone:
        zone = zone_named(user.timezone)
    elif not user.team_id:
        zone = UTC
    elif _loaded(user, "team") and user.team is not None and _loaded(user.team, "calendar"):
        zone = zone_named(user.team.calendar.timezone)
    else:
        zone = team_zone(user.team_id)
    user.__dict__[_MEMO] = ((user.timezone, user.team_id), zone)
    return zone


def _loaded(instance, relation: str) -> bool:
    return instance._meta.get_field(relation).is_cached(instance)
