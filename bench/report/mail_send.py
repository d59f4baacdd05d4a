"""Figure 9: sending email."""

from ..mail_send import MailSendFigures
from ..mdwriter import Paragraph, Section, Table
from .summary import Row, not_measured


def rows(m: MailSendFigures) -> list[Row]:
    figure = f"Email sends through one worker, {m.messages:,} due at once"
    if not m.complete:
        return [not_measured(figure, f"{m.sent:,} marked sent, delivered {m.delivered}")]
    return [
        Row(
            figure,
            f"{m.refinery_per_minute:,.0f} sends/min ({m.refinery_seconds * 1000 / m.messages:.1f} ms each)",
            f"{m.smtplib_per_minute:,.0f} sends/min (bare smtplib, one connection)",
            f"{m.refinery_per_minute / m.smtplib_per_minute:.2f}x",
            "—",
            None,
        )
    ]


def section(m: MailSendFigures) -> Section:
    each = m.refinery_seconds * 1000 / m.messages
    smtp_each = m.smtplib_each_seconds * 1000 / m.messages
    smtp_one = m.smtplib_seconds * 1000 / m.messages
    table = Table(
        ("path", "messages", "seconds", "sends/min", "ms per email", "delivered"),
        [
            (
                "Refinery `send_due` (claim, SMTP, sent + touch)",
                f"{m.messages:,}",
                f"{m.refinery_seconds:.2f}",
                f"{m.refinery_per_minute:,.0f}",
                f"{each:.1f}",
                f"{m.delivered.get('refinery', 0):,}",
            ),
            (
                "smtplib, a connection per message",
                f"{m.messages:,}",
                f"{m.smtplib_each_seconds:.2f}",
                f"{m.smtplib_each_per_minute:,.0f}",
                f"{smtp_each:.1f}",
                f"{m.delivered.get('smtplib-each', 0):,}",
            ),
            (
                "smtplib, one connection (baseline)",
                f"{m.messages:,}",
                f"{m.smtplib_seconds:.2f}",
                f"{m.smtplib_per_minute:,.0f}",
                f"{smtp_one:.1f}",
                f"{m.delivered.get('smtplib', 0):,}",
            ),
        ],
    )
    kinds = ", ".join(f"{kind} {count / m.messages:g}" for kind, count in sorted(m.statement_kinds.items()))
    connection = max(smtp_each - smtp_one, 0.0)
    database = max(each - smtp_each, 0.0)
    return Section(
        "9. Sending email",
        [
            Paragraph(
                f"{m.messages:,} emails due at once from one rep's own mailbox (SMTP 127.0.0.1:10025: aiosmtpd",
                "delivering each message into Dovecot over LMTP before it answers DATA; pace 0, no daily limit",
                "reached), each to a working lead of the rep's, sent by `mail.services.send_due` in one",
                "process as one worker's beat task sends them: each claimed under the mailbox's row lock (pace,",
                "daily limit, suppression list), built under its recorded Message-ID, sent over an SMTP",
                "connection of its own (Django's backend), then marked sent with its touch (`sdr.log_touch`)",
                "in one transaction. The baseline sends the same number of messages of the same size with",
                "`smtplib` over one connection, no database; the middle row opens a connection per message,",
                "as the send service does. Every path's messages are counted in its Dovecot INBOX afterwards.",
            ),
            table,
            Paragraph(
                f"Per email, the connection of its own costs about {connection:.1f} ms (the two smtplib rows); the",
                f"claim, the build and the record cost about {database:.1f} ms more, in the database and in Python",
                f"({m.statements / m.messages:.1f} statements: {kinds}). So the connection per email is not what",
                "costs: a batch reusing one connection per mailbox would save the first figure only. Each email",
                "is claimed, sent and recorded on its own, so a worker that dies loses at most the one email it",
                "holds (re-sent under its Message-ID); and a real mailbox's pace (one email a minute by default)",
                "leaves one worker room for over a thousand mailboxes sending at full pace.",
            ),
        ],
    )
