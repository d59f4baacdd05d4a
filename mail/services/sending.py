"""The one send service: every email Refinery sends (a rep's, a cadence step's, a nurture
track's) is scheduled here and leaves through ``send_message``.

Exactly once:

1. ``schedule_email`` writes the ``Message`` (status ``scheduled``) with its Message-ID
   chosen then, after the merge fields, the suppression list and the sender's business hours
   have been checked.
2. ``send_message`` claims it under the mailbox's row lock (pace and daily limit are checked
   there, so two workers cannot both take the last slot) with a compare-and-swap
   ``scheduled -> sending``, and commits the claim *before* talking to the SMTP server. A
   second worker, or the same task delivered twice, finds it no longer scheduled and does
   nothing.
3. After the server accepts it, ``sending -> sent`` and the touch are committed together.

A process that dies between the server's acceptance and that commit leaves the message in
``sending`` with its Message-ID recorded. ``recover_interrupted`` finds it (claimed long
ago), and, for a mailbox Refinery reads over IMAP, the poller first looks for that Message-ID
in the Sent folder (``confirm_sent``); otherwise it is sent again under the same Message-ID,
which receiving systems and mail clients treat as the same email. An SMTP outage puts the
message back with a growing delay (nothing is lost); after ``MAIL_SEND_ATTEMPTS`` tries, or
at once when the server refuses it for good (5xx), it is ``failed`` with the server's answer,
which the rep sees.
"""

import logging
import smtplib
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kit.broker import send
from team.calendar import business_day_start, next_business_instant
from work import services as work

from .. import transport
from ..crypto import CredentialError
from ..models import Mailbox, Message
from .suppression import refusal, suppress, suppressed

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)
# Delays before the 2nd, 3rd, ... attempt after a temporary failure.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


class Outcome:
    SENT = "sent"
    DEFERRED = "deferred"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


@dataclass
class SendResult:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def sent(self) -> int:
        return self.outcomes.get(Outcome.SENT, 0)


def max_attempts() -> int:
    return int(getattr(settings, "MAIL_SEND_ATTEMPTS", 5))


def new_message_id(address: str) -> str:
    """A Message-ID in the sender's domain (``<...@example.com>``)."""
    domain = address.rpartition("@")[2].strip(">").strip() or "refinery.localhost"
    return make_msgid(domain=domain)


def enqueue(message_id: int) -> None:
    """Ask a worker to send it now (after the commit). A broker outage only delays it: the
    beat's ``send_due`` picks up every scheduled message that is due."""
    from ..tasks import send_message as send_task

    send(send_task, message_id)


def schedule(message: Message, *, now: datetime) -> Message:
    """Save a prepared outgoing message (inside the caller's transaction) and have it sent when
    due; its Message-ID is chosen here, once."""
    message.direction = Message.Direction.OUT
    message.status = Message.Status.SCHEDULED
    if not message.message_id:
        message.message_id = new_message_id(message.from_address)
    message.created_at = now
    message.save()
    if message.send_at is not None and message.send_at <= now:
        pk = message.pk
        transaction.on_commit(lambda: enqueue(pk))
    return message


def sender_schedule(user):
    return work.Schedules().for_team(getattr(user, "team_id", None))


def in_business_hours(user, instant: datetime) -> bool:
    schedule = sender_schedule(user)
    return next_business_instant(schedule, instant) == instant


def next_opening(user, instant: datetime) -> datetime:
    return next_business_instant(sender_schedule(user), instant)


def send_due(*, now: datetime | None = None, limit: int = 200) -> SendResult:
    """The beat's sweep: recover interrupted sends, then try every message due by now (oldest
    first). Each is claimed on its own, so this is safe beside the per-message tasks."""
    now = now or timezone.now()
    result = SendResult()
    recover_interrupted(now=now)
    ids = list(Message.objects.due(now).order_by("send_at", "id").values_list("pk", flat=True)[:limit])
    for pk in ids:
        result.add(send_message(message_id=pk))
    return result


def send_message(*, message_id: int, now: datetime | None = None) -> str:
    """Claim and send one message (see the module's docstring)."""
    claimed = _claim(message_id, now or timezone.now())
    if isinstance(claimed, str):
        return claimed
    message, mailbox = claimed
    return _deliver(message, mailbox)


def _claim(message_id: int, now: datetime) -> tuple[Message, Mailbox] | str:
    with transaction.atomic():
        mailbox_id = Message.objects.filter(pk=message_id).values_list("mailbox_id", flat=True).first()
        if mailbox_id is None:
            return Outcome.SKIPPED
        # The mailbox's lock orders every claim of this mailbox: pace and the daily limit are
        # read and taken by one worker at a time. Only the mailbox's row, and NO KEY: a plain
        # FOR UPDATE would also lock the rep's user row and block, until this claim commits,
        # every transaction inserting a row that refers to the rep or the mailbox (their
        # foreign keys are checked at COMMIT with a KEY SHARE lock).
        mailbox = (
            Mailbox.objects.select_for_update(of=("self",), no_key=True)
            .select_related("user")
            .get(pk=mailbox_id)
        )
        message = Message.objects.filter(pk=message_id).first()
        if message is None or message.status != Message.Status.SCHEDULED:
            return Outcome.SKIPPED
        if message.send_at is not None and message.send_at > now:
            return Outcome.SKIPPED
        row = suppressed([message.to_address]).get(message.to_address.strip().lower())
        if row is not None:
            _set(message, status=Message.Status.CANCELLED, error=refusal(row))
            if message.enrollment_id is not None:
                from .steps import end_for_suppression

                end_for_suppression(message, row, now)
            return Outcome.CANCELLED
        if message.step_id is not None:
            from .steps import claim_check

            verdict = claim_check(message, mailbox, now)
            if verdict.cancel:
                _set(message, status=Message.Status.CANCELLED, error=verdict.cancel)
                return Outcome.CANCELLED
            if verdict.later is not None:
                Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED).update(
                    send_at=verdict.later
                )
                return Outcome.DEFERRED
        later = _pace(mailbox, now)
        if later is not None:
            Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED).update(send_at=later)
            return Outcome.DEFERRED
        claimed = Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED).update(
            status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        if not claimed:
            return Outcome.SKIPPED
        mailbox.last_sent_at = now
        mailbox.save(update_fields=["last_sent_at"])
    message.refresh_from_db()
    return message, mailbox


def _pace(mailbox: Mailbox, now: datetime) -> datetime | None:
    """When this mailbox may send next, if not now: ``pace_seconds`` after its last email, or
    the next business day's opening once ``daily_limit`` emails went out today (the day in the
    sender's zone)."""
    if mailbox.last_sent_at is not None and mailbox.pace_seconds:
        earliest = mailbox.last_sent_at + timedelta(seconds=mailbox.pace_seconds)
        if earliest > now:
            return earliest
    schedule = sender_schedule(mailbox.user)
    local = now.astimezone(schedule.tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Two index range scans (mail_mailbox_sent, mail_sending), not the mailbox's whole history:
    # what left today, and what is leaving now.
    sent_today = (
        Message.objects.filter(mailbox=mailbox, status=Message.Status.SENT, sent_at__gte=day_start).count()
        + Message.objects.filter(mailbox=mailbox, status=Message.Status.SENDING).count()
    )
    if sent_today >= mailbox.daily_limit:
        tomorrow = day_start + timedelta(days=1)
        try:
            return business_day_start(schedule, tomorrow, 0)
        except ValueError:
            return tomorrow
    return None


def _set(message: Message, **fields) -> None:
    if "error" in fields:
        fields["error"] = str(fields["error"])[:500]
    Message.objects.filter(pk=message.pk).update(**fields)
    for name, value in fields.items():
        setattr(message, name, value)


PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def _deliver(message: Message, mailbox: Mailbox) -> str:
    try:
        email = transport.build(message, mailbox)
        transport.connection(mailbox).send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        code, answer = next(iter(exc.recipients.values()), (0, b""))
        return _refused(message, code, answer)
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError, smtplib.SMTPAuthenticationError) as exc:
        return _refused(message, exc.smtp_code, exc.smtp_error)
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return _retry_later(message, describe(exc))
    except CredentialError as exc:
        # Retrying cannot help until the sender enters the password again.
        _set(message, status=Message.Status.FAILED, error=f"Not sent: {exc}")
        return Outcome.FAILED
    with transaction.atomic():
        done = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.SENT, sent_at=timezone.now(), error=""
        )
        if done:
            message.refresh_from_db()
            from .recording import record_sent

            record_sent(message)
    return Outcome.SENT


def describe(exc: BaseException) -> str:
    """The server's answer, or what failed on the way to it, for the rep to read."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, socket.gaierror):
        return f"The mail server's name does not resolve ({exc.strerror})."
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "The mail server refused the connection (is it running, and is the port right?)."
    if isinstance(exc, TimeoutError | socket.timeout):
        return "The mail server did not answer in time."
    return f"{type(exc).__name__}: {exc}"


def _refused(message: Message, code: int, answer: bytes | str) -> str:
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
    reply = f"{code} {text}".strip()
    if 400 <= code < 500:
        return _retry_later(message, reply)
    _set(message, status=Message.Status.FAILED, error=f"The server refused it: {reply}")
    if code in (550, 551, 553) and message.to_address:
        # The recipient's server says the address does not exist: it bounces.
        suppress(address=message.to_address, reason="bounced", detail=reply, message=message)
        from .recording import record_bounce

        record_bounce(message, reply)
    return Outcome.FAILED


def _retry_later(message: Message, error: str) -> str:
    if message.attempts >= max_attempts():
        _set(
            message,
            status=Message.Status.FAILED,
            error=f"Not sent after {message.attempts} attempts: {error}",
        )
        logger.warning("Message %s failed after %s attempts: %s", message.pk, message.attempts, error)
        return Outcome.FAILED
    delay = RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS)) - 1]
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SCHEDULED, send_at=timezone.now() + delay, error=error[:500]
    )
    logger.info("Message %s will be retried in %s: %s", message.pk, delay, error)
    return Outcome.RETRY


def recover_interrupted(*, now: datetime) -> int:
    """Sends claimed long ago and never finished (the worker died, perhaps after the server
    accepted the email): back to ``scheduled`` under the same Message-ID, unless the poller
    has meanwhile found them in the mailbox's Sent folder (``confirm_sent``)."""
    stale = Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return stale.update(
        status=Message.Status.SCHEDULED,
        send_at=now,
        error="Interrupted while sending; sent again under the same Message-ID.",
    )


def confirm_sent(*, message_ids: Iterable[str], now: datetime | None = None) -> int:
    """The poller found these Message-IDs in a Sent folder: any of ours still ``sending``
    (interrupted after the server accepted it) or waiting to be re-sent after such an
    interruption is sent. Returns how many were confirmed."""
    now = now or timezone.now()
    ids = list(message_ids)
    confirmed = 0
    for message in Message.objects.filter(
        direction=Message.Direction.OUT,
        message_id__in=ids,
        status__in=[Message.Status.SENDING, Message.Status.SCHEDULED],
        attempts__gt=0,
    ):
        with transaction.atomic():
            if Message.objects.filter(pk=message.pk, status=message.status).update(
                status=Message.Status.SENT, sent_at=message.claimed_at or now, error=""
            ):
                message.refresh_from_db()
                from .recording import record_sent

                record_sent(message)
                confirmed += 1
    return confirmed
