"""The wire: an outgoing ``Message`` as the email the SMTP server receives, and the SMTP
connection of its mailbox (the installation's ``EMAIL_URL`` for a system mailbox, the rep's
own server otherwise). Both through Django's email backends, so the embedded mode's console or
file backend shows exactly what would have been sent."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from . import tracking
from .models import Mailbox, Message, Security

SMTP_TIMEOUT = 30

UNSUBSCRIBE_FOOTER = "\n\n--\nTo stop receiving these emails: {url}\n"


def text_body(message: Message) -> str:
    body = message.body.rstrip() + "\n"
    if message.unsubscribe_link:
        body += UNSUBSCRIBE_FOOTER.format(url=tracking.unsubscribe_url(message.pk))
    return body


def build(message: Message, mailbox: Mailbox) -> EmailMultiAlternatives:
    """The email for ``message``, under its recorded Message-ID (never a new one: a retry of
    an interrupted send must be recognisable as the same email)."""
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = (message.references or message.in_reply_to).strip()
    if message.unsubscribe_link:
        # RFC 8058: mail clients show an unsubscribe button that POSTs to this URL at once.
        headers["List-Unsubscribe"] = f"<{tracking.unsubscribe_url(message.pk)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = text_body(message)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=text,
        from_email=message.from_address or mailbox.from_header,
        to=[message.to_address],
        headers=headers,
    )
    if message.tracked:
        email.attach_alternative(tracking.html_body(text, message_id=message.pk, track=True), "text/html")
    return email


def connection(mailbox: Mailbox, *, timeout: int = SMTP_TIMEOUT) -> BaseEmailBackend:
    """An SMTP connection for the mailbox (not yet opened)."""
    if mailbox.kind == Mailbox.Kind.SYSTEM:
        return get_connection(fail_silently=False)
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        fail_silently=False,
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.smtp_username or None,
        password=mailbox.smtp_password or None,
        use_tls=mailbox.smtp_security == Security.STARTTLS,
        use_ssl=mailbox.smtp_security == Security.SSL,
        timeout=timeout,
    )


def system_sends_for_real() -> bool:
    """Whether the installation's mail goes to a server (not the console or a file)."""
    return settings.EMAIL_BACKEND.endswith("smtp.EmailBackend")
