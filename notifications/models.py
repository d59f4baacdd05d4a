"""A notification for one person, and which kinds each person also wants by email."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    ASSIGNED = "assigned", "Assigned to you"
    SLA_WARNING = "sla_warning", "An SLA about to breach"
    HANDOFF_ANSWERED = "handoff_answered", "A handoff accepted or rejected"
    RENEWAL_OPENED = "renewal_opened", "A renewal window opened"
    REPLY = "reply", "A reply received"


# Without a choice of their own a person gets by email only what costs them if they miss it
# while away from the app: the SLA warning (there is still time to act) and the answer to a
# handoff (a rejected one is back in the SDR's queue). Assignments and replies arrive many a
# day and are in the queue anyway; renewals open 60 days ahead.
DEFAULT_EMAIL_KINDS = (Kind.SLA_WARNING, Kind.HANDOFF_ANSWERED)


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_recipient(self, user) -> "NotificationQuerySet":
        """A person's own notifications: nobody reads another's."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)

    def newest_first(self) -> "NotificationQuerySet":
        return self.order_by("-created_at", "-id")


class Notification(models.Model):
    """One piece of news for one person: what happened (``text``), the page to open (``url``,
    a path inside Refinery to a page the recipient may see), when, and whether they read it.

    ``key`` names the event when its trigger may fire twice (a sweep re-run, a retried task):
    a notification is unique per recipient, kind and key, so the second is not written.
    """

    class Email(models.TextChoices):
        NONE = "none", "Not by email"
        PENDING = "pending", "To be emailed"
        SENT = "sent", "Emailed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # served by notification_recipient
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True, help_text="A path inside Refinery.")
    key = models.CharField(max_length=100, blank=True, help_text="The event, when it may be notified twice.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.NONE)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list page: a person's notifications, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient"),
            # The bell: a person's unread ones (counted on every poll), newest first.
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                name="notification_unread",
                condition=Q(read_at__isnull=True),
            ),
            # The email task: what is still to be sent.
            models.Index(fields=["id"], name="notification_email_pending", condition=Q(email="pending")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "key"], condition=~Q(key=""), name="notification_once"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """Which kinds of notification a person also gets by email (``DEFAULT_EMAIL_KINDS`` until
    they choose)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    email_kinds = models.JSONField(default=list, blank=True, help_text="Kinds also sent by email.")

    class Meta:
        verbose_name = "notification preference"

    def __str__(self) -> str:
        return f"Notifications of {self.user}"
