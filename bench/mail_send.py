"""Figure 8: sending email (issue 14 §8): sends per minute through one worker to the SMTP server
on loopback (``bin/mail-servers``: aiosmtpd delivering into Dovecot over LMTP), beside a bare
``smtplib`` loop sending the same number of messages over one connection.

1. Refinery: ``n`` emails due at once from one rep's own mailbox (127.0.0.1:10025, no TLS, pace 0,
   no daily limit to speak of), each to its own working lead of the rep's, sent by
   ``mail.services.send_due`` in this process, as one worker's beat task does: each email
   claimed under the mailbox lock (pace, daily limit, suppression list), built with its
   recorded Message-ID, sent over a connection of its own (Django's SMTP backend, opened per
   message), then marked sent with its touch (``sdr.log_touch``: the activity, the lead's
   first touch, its cadence) in one transaction. The statements it sends are counted.
2. Baseline: the same number of messages of the same size through ``smtplib`` over one
   connection, no database. And, to separate the two costs, the same loop opening a
   connection per message, as the send service does.

Every email is addressed ``<box>+<n>@refinery.test``, which Dovecot delivers into one INBOX
per run; its message count is checked afterwards (each path delivered all of its own).
The figure needs the mail servers (``make bench`` starts them with ``make mail-servers``)."""

import smtplib
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from .timing import StatementTimer, Timer

SMTP = ("127.0.0.1", 10025)
IMAP = ("127.0.0.1", 10143)
PASSWORD = "refinery-test"
BODY = (
    "Hi Ada,\n\nI saw Globex is hiring SDRs: how do you route inbound leads today?\n"
    "A two-minute read: https://refinery.example/story\n\nSam Okafor\nRefinery\n"
)


@dataclass
class MailSendFigures:
    messages: int
    refinery_seconds: float
    statements: int  # sent by send_due for all the messages
    statement_kinds: dict[str, int] = field(default_factory=dict)
    smtplib_seconds: float = 0.0  # one connection
    smtplib_each_seconds: float = 0.0  # a connection per message
    delivered: dict[str, int] = field(default_factory=dict)  # path -> messages in its INBOX
    sent: int = 0  # Refinery's messages marked sent

    @property
    def refinery_per_minute(self) -> float:
        return self.messages / self.refinery_seconds * 60

    @property
    def smtplib_per_minute(self) -> float:
        return self.messages / self.smtplib_seconds * 60

    @property
    def smtplib_each_per_minute(self) -> float:
        return self.messages / self.smtplib_each_seconds * 60

    @property
    def complete(self) -> bool:
        return self.sent == self.messages and all(n == self.messages for n in self.delivered.values())


def servers_up() -> bool:
    import socket

    for host, port in (SMTP, IMAP):
        try:
            with socket.create_connection((host, port), timeout=1):
                pass
        except OSError:
            return False
    return True


def _box(path: str) -> str:
    return f"bench-{path}-{uuid.uuid4().hex[:12]}@refinery.test"


def _plus(box: str, n: int) -> str:
    local, domain = box.split("@")
    return f"{local}+{n}@{domain}"


def set_up(n: int, box: str):
    """A rep with an own mailbox on loopback, ``n`` working leads of theirs (addresses in
    ``box``) and one scheduled email to each, due now."""
    from django.db import transaction
    from django.utils import timezone

    from leads.models import Lead
    from mail.models import Mailbox, Message, Security
    from team.models import Role, User

    now = timezone.now()
    with transaction.atomic():
        rep = User.objects.create(
            username=f"bench-mail-{uuid.uuid4().hex[:6]}",
            first_name="Sam",
            last_name="Okafor",
            role=Role.INBOUND_SDR,
            email="sam@refinery.example",
            password="!",
        )
        mailbox = Mailbox.objects.create(
            user=rep,
            kind=Mailbox.Kind.OWN,
            from_name="Sam Okafor",
            from_address="sam@refinery.example",
            smtp_host=SMTP[0],
            smtp_port=SMTP[1],
            smtp_security=Security.NONE,
            pace_seconds=0,
            daily_limit=10**9,
        )
        leads = Lead.objects.bulk_create(
            Lead(
                email=_plus(box, i),
                first_name="Ada",
                company="Globex",
                status=Lead.Status.WORKING,
                owner=rep,
                captured_at=now,
                first_seen_at=now,
                status_changed_at=now,
            )
            for i in range(n)
        )
        Message.objects.bulk_create(
            Message(
                direction=Message.Direction.OUT,
                status=Message.Status.SCHEDULED,
                mailbox=mailbox,
                sender=rep,
                lead=lead,
                from_address=mailbox.from_header,
                to_address=lead.email,
                subject="Globex and speed to lead",
                body=BODY,
                message_id=make_msgid(domain="refinery.example"),
                send_at=now,
                created_at=now,
            )
            for lead in leads
        )


def measure_refinery(n: int, box: str) -> tuple[float, int, dict[str, int], int]:
    from mail.models import Message
    from mail.services import send_due

    from .timing import statement_kinds

    set_up(n, box)
    with StatementTimer() as statements, Timer() as timer:
        result = send_due(limit=n)
    sent = Message.objects.filter(
        to_address__startswith=box.split("@")[0], status=Message.Status.SENT
    ).count()
    if result.sent != sent:
        raise RuntimeError(f"send_due said {result.outcomes}, {sent} marked sent")
    kinds = {kind: count for kind, (count, _) in statement_kinds(statements.statements).items()}
    return timer.seconds, len(statements.statements), kinds, sent


def _email(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Sam Okafor <sam@refinery.example>"
    message["To"] = to
    message["Subject"] = "Globex and speed to lead"
    message["Message-ID"] = make_msgid(domain="refinery.example")
    message.set_content(BODY)
    return message


def measure_smtplib(n: int, box: str, *, connection_each: bool) -> float:
    """``n`` messages through smtplib: over one connection, or one connection per message."""
    with Timer() as timer:
        if connection_each:
            for i in range(n):
                with smtplib.SMTP(*SMTP, timeout=30) as smtp:
                    smtp.send_message(_email(_plus(box, i)))
        else:
            with smtplib.SMTP(*SMTP, timeout=30) as smtp:
                for i in range(n):
                    smtp.send_message(_email(_plus(box, i)))
    return timer.seconds


def delivered(box: str, expected: int, timeout: float = 60) -> int:
    """Messages in ``box``'s INBOX once delivery has caught up (or the timeout passed)."""
    import imaplib

    deadline = time.monotonic() + timeout
    while True:
        with imaplib.IMAP4(*IMAP, timeout=30) as client:
            client.login(box, PASSWORD)
            _, data = client.status("INBOX", "(MESSAGES)")
        count = int(data[0].decode().rsplit("MESSAGES", 1)[1].strip(" )"))
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def measure(n: int, log) -> MailSendFigures:
    if not servers_up():
        raise RuntimeError(
            "the mail servers do not answer on 127.0.0.1:10025/10143: `make mail-servers` starts them"
        )
    boxes = {path: _box(path) for path in ("refinery", "smtplib", "smtplib-each")}
    log("mail: warming up the SMTP server (10 messages)")
    measure_smtplib(10, _box("warm"), connection_each=False)
    log(f"mail: Refinery's send_due, {n:,} emails due from one mailbox (pace 0), one process")
    seconds, count, kinds, sent = measure_refinery(n, boxes["refinery"])
    figures = MailSendFigures(
        messages=n, refinery_seconds=seconds, statements=count, statement_kinds=kinds, sent=sent
    )
    log(
        f"mail: {figures.refinery_per_minute:,.0f} sends/min ({seconds:.2f} s,"
        f" {count / n:.1f} statements per email)"
    )
    log(f"mail: baseline smtplib, {n:,} messages over one connection")
    figures.smtplib_seconds = measure_smtplib(n, boxes["smtplib"], connection_each=False)
    log(f"mail: {figures.smtplib_per_minute:,.0f} sends/min ({figures.smtplib_seconds:.2f} s)")
    log(f"mail: smtplib, {n:,} messages, a connection each")
    figures.smtplib_each_seconds = measure_smtplib(n, boxes["smtplib-each"], connection_each=True)
    log(f"mail: {figures.smtplib_each_per_minute:,.0f} sends/min ({figures.smtplib_each_seconds:.2f} s)")
    figures.delivered = {path: delivered(box, n) for path, box in boxes.items()}
    log(f"mail: delivered {figures.delivered}")
    return figures
