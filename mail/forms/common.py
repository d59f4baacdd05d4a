"""What the mail forms share: text that must stay on one line (it goes into a mail header or
a protocol command) and must be encodable."""

import re

from django.core.exceptions import ValidationError

from kit import bounds

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_one_line(value: str) -> None:
    """No line breaks or other control characters: a header or a LOGIN line cannot carry them."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValidationError(
            "Use one line of text, without line breaks or control characters.", code="control"
        )


ONE_LINE = [bounds.validate_utf8, validate_one_line]
