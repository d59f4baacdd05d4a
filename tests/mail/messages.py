"""Raw emails as mail servers and clients write them, for the IMAP tests: a prospect's
reply, an out-of-office, a Postfix delivery status notification, an old-style bounce."""

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def email(
    *,
    sender: str,
    to: str,
    subject: str = "Re: Quick question",
    body: str = "Sounds good, let's talk on Thursday.",
    in_reply_to: str = "",
    references: str = "",
    date: datetime | None = None,
    message_id: str | None = None,
    html: str = "",
    **headers: str,
) -> bytes:
    """An email; ``headers`` with underscores for dashes (``Auto_Submitted="auto-replied"``)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="prospect.example")
    if date is not None:
        message["Date"] = format_datetime(date)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references or in_reply_to
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return bytes(message)


def dsn(
    *,
    to: str,
    recipient: str,
    original_id: str = "",
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown",
    date: datetime | None = None,
) -> bytes:
    """A Postfix-style delivery status notification (RFC 3464) returning the headers of the
    message with ``original_id``."""
    boundary = "B3F2A1C0.1700000000/mx.prospect.example"
    returned = f"Message-ID: {original_id}\n" if original_id else ""
    dated = f"Date: {format_datetime(date)}\n" if date else ""
    text = f"""From: MAILER-DAEMON@mx.prospect.example (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
{dated}Message-ID: {make_msgid(domain="mx.prospect.example")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.prospect.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.prospect.example
Arrival-Date: Mon, 23 Nov 2026 10:00:00 +0100

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: {diagnostic.format(recipient=recipient)}

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{to}>
From: Sam <{to}>
To: {recipient}
Subject: Quick question
{returned}
--{boundary}--
"""
    return text.replace("\n", "\r\n").encode()
