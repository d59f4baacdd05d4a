"""Mailboxes (how a rep sends and where their replies are read), templates, every email sent
or received about a lead or contact, the IMAP position of each polled folder, and the
suppression list."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import crypto


class Security(models.TextChoices):
    NONE = "none", "None (loopback or a trusted network only)"
    STARTTLS = "starttls", "STARTTLS"
    SSL = "ssl", "TLS from the start (SSL)"


class Mailbox(models.Model):
    """How one person sends and reads email. ``system``: the installation's SMTP server (the
    ``EMAIL_URL`` setting) with the person's own address in From, and no IMAP; ``own``: the
    person's own mailbox at their provider, SMTP to send and IMAP to read replies and the Sent
    folder. Passwords are stored encrypted (``mail.crypto``) and never shown again."""

    class Kind(models.TextChoices):
        SYSTEM = "system", "Send through Refinery's mail server"
        OWN = "own", "My own mailbox (SMTP and IMAP)"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailbox")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SYSTEM)
    from_name = models.CharField(max_length=100, blank=True)
    from_address = models.EmailField(max_length=254)
    signature = models.TextField(blank=True, max_length=2000)

    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(max_length=10, choices=Security.choices, default=Security.STARTTLS)
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password_encrypted = models.TextField(blank=True, editable=False)

    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password_encrypted = models.TextField(blank=True, editable=False)
    inbox_folder = models.CharField(max_length=100, default="INBOX")
    sent_folder = models.CharField(max_length=100, default="Sent", blank=True)

    daily_limit = models.PositiveIntegerField(
        default=200, help_text="At most this many emails a day (in the sender's time zone)."
    )
    pace_seconds = models.PositiveIntegerField(
        default=60, help_text="At least this many seconds between two emails from this mailbox."
    )
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_error = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.from_address} ({self.get_kind_display()})"

    @property
    def smtp_password(self) -> str:
        return crypto.decrypt(self.smtp_password_encrypted)

    @smtp_password.setter
    def smtp_password(self, value: str) -> None:
        self.smtp_password_encrypted = crypto.encrypt(value)

    @property
    def imap_password(self) -> str:
        return crypto.decrypt(self.imap_password_encrypted)

    @imap_password.setter
    def imap_password(self, value: str) -> None:
        self.imap_password_encrypted = crypto.encrypt(value)

    @property
    def reads_imap(self) -> bool:
        return self.kind == self.Kind.OWN and bool(self.imap_host)

    @property
    def from_header(self) -> str:
        from email.utils import formataddr

        return formataddr((self.from_name, self.from_address)) if self.from_name else self.from_address


class Template(models.Model):
    """A reusable email: subject and body with merge fields such as ``{{ lead.first_name }}``
    and ``{{ sender.name }}`` (``mail.merge`` lists them). Shared when it has no owner,
    personal otherwise."""

    name = models.CharField(max_length=100)
    subject = models.CharField(max_length=300)
    body = models.TextField(max_length=20_000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email_templates",
        help_text="Empty: shared with everyone.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class MessageQuerySet(models.QuerySet["Message"]):
    def due(self, now):
        return self.filter(status=Message.Status.SCHEDULED, send_at__lte=now)


class Message(models.Model):
    """One email about a lead or contact: written in Refinery and sent (``out``), or read from
    a mailbox (``in``: a reply, an automatic reply, a bounce, or one the rep sent from their
    own mail client, found in the Sent folder).

    An outgoing email's ``message_id`` is chosen when it is scheduled and recorded before the
    SMTP transaction: the send is claimed (``scheduled`` -> ``sending``) with a compare-and-swap,
    so two workers never send it twice, and a retry after a crash re-sends under the same
    Message-ID (see ``mail.services.sending``)."""

    class Direction(models.TextChoices):
        OUT = "out", "Sent"
        IN = "in", "Received"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        RECEIVED = "received", "Received"

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        REPLY = "reply", "Reply"
        AUTO_REPLY = "auto_reply", "Automatic reply"
        BOUNCE = "bounce", "Bounce"
        SENT_ELSEWHERE = "sent_elsewhere", "Sent from a mail client"

    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.OUT)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EMAIL)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="email_messages"
    )
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="email_messages"
    )
    enrollment = models.ForeignKey(
        "sdr.Enrollment", null=True, blank=True, on_delete=models.SET_NULL, related_name="email_messages"
    )
    step = models.ForeignKey(
        "sdr.CadenceStep", null=True, blank=True, on_delete=models.SET_NULL, related_name="email_messages"
    )
    template = models.ForeignKey(Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_address = models.CharField(max_length=320)
    to_address = models.CharField(max_length=320)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    tracked = models.BooleanField(default=False, help_text="Opens and clicks are tracked.")
    unsubscribe_link = models.BooleanField(default=False, help_text="Carries a one-click unsubscribe.")
    send_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="First open (tracking pixel).")
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="First tracked click.")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, help_text="The server's last answer.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"], condition=Q(direction="out"), name="mail_outgoing_message_id"
            ),
            # A cadence step's email is written once per enrollment, whoever schedules it.
            models.UniqueConstraint(
                fields=["enrollment", "step"],
                condition=Q(enrollment__isnull=False, step__isnull=False),
                name="mail_one_email_per_step",
            ),
        ]
        indexes = [
            models.Index(fields=["send_at"], name="mail_due", condition=Q(status="scheduled")),
            models.Index(fields=["claimed_at"], name="mail_sending", condition=Q(status="sending")),
            models.Index(fields=["message_id"], name="mail_message_id"),
            models.Index(fields=["lead", "-created_at"], name="mail_lead_time"),
            models.Index(fields=["contact", "-created_at"], name="mail_contact_time"),
            models.Index(fields=["mailbox", "sent_at"], name="mail_mailbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.subject or '(no subject)'}"


class FolderState(models.Model):
    """How far the poller has read one IMAP folder: the folder's UIDVALIDITY and the highest
    UID seen. A changed UIDVALIDITY means the server renumbered the folder: it is read again
    from the start (messages already recorded are recognised by their Message-ID)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    folder = models.CharField(max_length=100)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "folder"], name="mail_folder_once")]

    def __str__(self) -> str:
        return f"{self.mailbox}: {self.folder} at UID {self.last_uid}"


class Suppression(models.Model):
    """An address nobody emails again: it unsubscribed, it bounces, or someone added it. The
    send service refuses it on every path (a person's send, a cadence step, a nurture track)."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounces"
        MANUAL = "manual", "Added by hand"

    address = models.CharField(max_length=320, unique=True, help_text="Normalized: trimmed, lower case.")
    reason = models.CharField(max_length=14, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.address}: {self.get_reason_display()}"
