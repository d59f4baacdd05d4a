"""How a signed-in person is loaded on each request."""

from django.contrib.auth.backends import ModelBackend


class UserBackend(ModelBackend):
    """Django's model backend, loading the signed-in user with their team and its calendar in
    the same query: every page shows times in the person's zone (``team.zones.user_zone``),
    and this way finding it costs no query of its own."""

    def get_user(self, user_id):
        user = self._user_with_calendar(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _user_with_calendar(user_id):
        from .models import User

        return User.objects.select_related("team__calendar").filter(pk=user_id).first()
