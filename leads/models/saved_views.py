"""Saved views of the lead list: a name for a set of filters and a sort."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class SavedViewQuerySet(models.QuerySet["SavedView"]):
    def visible_to(self, user) -> "SavedViewQuerySet":
        """The views a user may open: their own, those shared with everyone, and those shared
        with their team (``leads.access`` says who may open the lead list at all)."""
        if not user.is_authenticated:
            return self.none()
        shared = Q(scope=SavedView.Scope.EVERYONE)
        if user.team_id is not None:
            shared |= Q(scope=SavedView.Scope.TEAM, team_id=user.team_id)
        return self.filter(Q(owner=user) | shared)


class SavedView(models.Model):
    """A named lead-list query: the filters and sort as the validated query string the list
    reads (``query``, without the page), re-validated by ``LeadFilter`` each time it is opened,
    so a view saved with a filter since removed or a campaign since deleted opens with a
    message, never an error. Personal, shared with the owner's team (``team``, fixed when
    shared), or shared with everyone who sees the lead list."""

    class Scope(models.TextChoices):
        PERSONAL = "personal", "Only me"
        TEAM = "team", "My team"
        EVERYONE = "everyone", "Everyone"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.PERSONAL)
    team = models.ForeignKey(
        "team.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views"
    )
    is_default = models.BooleanField(default=False, help_text="Opened when its owner opens the list bare.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["scope", "team"], name="saved_view_shared"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_unique_per_owner"),
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_default=True), name="saved_view_one_default_per_owner"
            ),
            models.CheckConstraint(
                condition=~Q(scope="team") | Q(team__isnull=False), name="saved_view_team_scope_has_team"
            ),
        ]

    def __str__(self) -> str:
        return self.name
