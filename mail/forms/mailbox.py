"""My mailbox: how a person sends (the installation's server as their own address, or their
own mailbox's SMTP and IMAP), their signature, daily limit and pace. Passwords are write-only:
never rendered back (not even masked), and a blank one keeps the stored one."""

import re

from django import forms
from django.core.exceptions import ValidationError

from kit import bounds

from ..models import Mailbox, Security
from ..services.mailboxes import EDITABLE
from .common import ONE_LINE

PORT_MESSAGES = {
    "invalid": "Enter a port number, e.g. 587.",
    "min_value": "Enter a port from 1 to 65535.",
    "max_value": "Enter a port from 1 to 65535.",
}
# A person's own mailbox sends at most this many a day (providers' limits are 500 to 2,000);
# the pace is at most an hour between two emails.
MAX_DAILY_LIMIT = 5_000
MAX_PACE_SECONDS = 3_600

_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._:-]*[A-Za-z0-9])?$")


def validate_host(value: str) -> None:
    if value and not _HOST.match(value):
        raise ValidationError("Enter a server name such as smtp.example.com, or an IP address.", code="host")


def _host(label: str, placeholder: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=253,
        required=False,
        validators=[*ONE_LINE, validate_host],
        widget=forms.TextInput(
            attrs={"placeholder": placeholder, "autocomplete": "off", "spellcheck": "false"}
        ),
    )


def _port(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=65_535, error_messages=PORT_MESSAGES)


def _security(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=Security.choices,
        error_messages={"invalid_choice": "Choose STARTTLS, TLS from the start, or none."},
    )


def validate_ascii(value: str) -> None:
    """SMTP logins (Python's smtplib, and so every send) carry ASCII only."""
    if value and not value.isascii():
        raise ValidationError(
            "Use ASCII letters, digits and punctuation only: the mail server's login cannot carry other "
            "characters (make an app password at your provider if yours has them).",
            code="ascii",
        )


def _username(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=255,
        required=False,
        strip=True,
        validators=[*ONE_LINE, validate_ascii],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _password(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=500,
        required=False,
        strip=False,
        validators=[*ONE_LINE, validate_ascii],
        # render_value=False: a bound form shown again (errors) never carries it back either.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def _folder(label: str, *, required: bool) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=100,
        required=required,
        validators=ONE_LINE,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class MailboxForm(forms.Form):
    kind = forms.ChoiceField(
        label="Send",
        choices=Mailbox.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose Refinery's mail server or your own mailbox."},
    )
    from_name = forms.CharField(label="From name", max_length=100, required=False, validators=ONE_LINE)
    from_address = forms.EmailField(
        label="From address",
        max_length=254,
        required=False,
        validators=ONE_LINE,
        error_messages={"invalid": "Enter an email address, e.g. sam@example.com."},
    )
    signature = forms.CharField(
        max_length=2000,
        required=False,
        validators=[bounds.validate_utf8],
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The {{ sender.signature }} merge field.",
    )

    smtp_host = _host("SMTP server", "smtp.example.com")
    smtp_port = _port("SMTP port")
    smtp_security = _security("SMTP security")
    smtp_username = _username("SMTP user name")
    smtp_password = _password("SMTP password")

    imap_host = _host("IMAP server", "imap.example.com")
    imap_port = _port("IMAP port")
    imap_security = _security("IMAP security")
    imap_username = _username("IMAP user name")
    imap_password = _password("IMAP password")
    inbox_folder = _folder("Inbox folder", required=True)
    sent_folder = _folder("Sent folder", required=False)

    daily_limit = forms.IntegerField(
        label="Daily limit",
        min_value=1,
        max_value=MAX_DAILY_LIMIT,
        help_text="At most this many emails a day.",
        error_messages={
            "invalid": "Enter a whole number, e.g. 200.",
            "min_value": f"Enter a number from 1 to {MAX_DAILY_LIMIT:,}.",
            "max_value": f"Enter a number from 1 to {MAX_DAILY_LIMIT:,}.",
        },
    )
    pace_seconds = forms.IntegerField(
        label="Pace (seconds)",
        min_value=0,
        max_value=MAX_PACE_SECONDS,
        help_text="At least this many seconds between two emails.",
        error_messages={
            "invalid": "Enter a whole number of seconds, e.g. 60.",
            "min_value": f"Enter a number of seconds from 0 to {MAX_PACE_SECONDS:,}.",
            "max_value": f"Enter a number of seconds from 0 to {MAX_PACE_SECONDS:,}.",
        },
    )
    save_anyway = forms.BooleanField(
        label="Save anyway (the connection test failed; sends will fail until it passes)", required=False
    )

    SETTINGS = EDITABLE  # what the mailbox service saves (passwords go separately)

    def __init__(self, *args, mailbox: Mailbox, **kwargs):
        self.mailbox = mailbox
        kwargs.setdefault("initial", {name: getattr(mailbox, name) for name in self.SETTINGS})
        super().__init__(*args, **kwargs)

    @property
    def smtp_password_stored(self) -> bool:
        return bool(self.mailbox.smtp_password_encrypted)

    @property
    def imap_password_stored(self) -> bool:
        return bool(self.mailbox.imap_password_encrypted)

    def clean(self):
        data = super().clean()
        if data.get("kind") != Mailbox.Kind.OWN:
            return data
        if not data.get("from_address"):
            self.add_error("from_address", "Enter the address your own mailbox sends as.")
        if not data.get("smtp_host"):
            self.add_error("smtp_host", "Enter your SMTP server, e.g. smtp.example.com.")
        if data.get("imap_host") and not data.get("imap_username"):
            self.add_error("imap_username", "Enter the IMAP user name (often your email address).")
        for prefix in ("smtp", "imap"):
            self._password_needed(prefix, data)
        return data

    def _password_needed(self, prefix: str, data: dict) -> None:
        """A stored password goes only to the server and user it was given for: when either
        changes, it must be typed again."""
        if data.get(f"{prefix}_password") or not data.get(f"{prefix}_username"):
            return
        stored = getattr(self, f"{prefix}_password_stored")
        moved = any(
            (data.get(f"{prefix}_{name}") or "") != (getattr(self.mailbox, f"{prefix}_{name}") or "")
            for name in ("host", "username")
        )
        if not stored:
            self.add_error(f"{prefix}_password", f"Enter the {prefix.upper()} password (or app password).")
        elif moved:
            self.add_error(
                f"{prefix}_password",
                f"Enter the {prefix.upper()} password again: the server or user name changed.",
            )

    def settings_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.SETTINGS if name in self.cleaned_data}
