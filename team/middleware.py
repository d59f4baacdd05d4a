"""The viewer's time zone, active for the whole request."""

from django.utils import timezone

from .zones import UTC, user_zone

API_PREFIX = "/api/"


class ViewerZoneMiddleware:
    """Activates the signed-in person's zone (``team.zones.user_zone``: their preference, else
    their team calendar's, else UTC; UTC under /api/) so every time a page shows (``|when`` and ``|day`` of the
    ``display`` tag library, forms' initial values) is in it; signed out, UTC. The user row is
    loaded with their team's calendar (``team.backends.UserBackend``), so this costs no query
    of its own; without a session cookie nothing is looked up at all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The API answers in UTC whoever asks (ISO 8601 with the offset; the schema says so).
        timezone.activate(UTC if request.path.startswith(API_PREFIX) else user_zone(request.user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
