"""What search reads of each model, as SQL expressions shared by the queries and the indexes
that serve them: an index serves a query only when both are the same expression, so both are
built here (``search.migrations`` creates the indexes from these very expressions).

A model's *document* is its searchable text in one string (a lead's name, email and company);
its *digits* the phone number with everything but digits removed, so "+49 30 1234" and
"030-1234" meet (``search.query.phone_candidates``)."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.expressions import Func

# Characters people write in phone numbers (``leads.cleaning.clean_phone``); SQLite has no
# regexp_replace, so there they are removed one by one.
_PHONE_PUNCTUATION = (" ", "-", "(", ")", ".", "/", "+", "x", "#")


class Digits(Func):
    """The digits of a text column: ``regexp_replace`` on PostgreSQL (immutable, so it can be
    indexed), nested ``replace`` of phone punctuation on SQLite."""

    function = "REGEXP_REPLACE"
    output_field = models.CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="REGEXP_REPLACE(%(expressions)s, '[^0-9]+', '', 'g')"
        )

    def as_sql(self, compiler, connection, function=None, template=None, **extra_context):
        if template is None and connection.vendor != "postgresql":
            template = "%(expressions)s"
            for char in _PHONE_PUNCTUATION:
                template = f"REPLACE({template}, '{char}', '')"
        return super().as_sql(compiler, connection, function=function, template=template, **extra_context)


class Joined(Func):
    """Text columns joined by spaces, in parentheses (an index's operator class follows the
    expression, which must then be one term). The columns are NOT NULL (blank is '')."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = models.CharField()


# model label -> the fields its document joins, in order
DOCUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "leads.Lead": ("first_name", "last_name", "email", "company"),
    "accounts.Contact": ("first_name", "last_name", "email"),
    "accounts.Account": ("name", "domain"),
    "accounts.Opportunity": ("name",),
    "renewals.Contract": ("number",),
}
# model label -> its phone column
PHONE_FIELDS: dict[str, str] = {"leads.Lead": "phone", "accounts.Contact": "phone"}


def document(label: str):
    fields = DOCUMENT_FIELDS[label]
    return Joined(*fields) if len(fields) > 1 else models.F(fields[0])


def digits(label: str) -> Digits:
    return Digits(models.F(PHONE_FIELDS[label]))


def indexes(label: str) -> list[GinIndex]:
    """The GIN trigram indexes of one model: its document, and its phone digits (only rows that
    have a phone)."""
    table = label.split(".")[1].lower()
    found = [GinIndex(OpClass(document(label), name="gin_trgm_ops"), name=f"search_{table}_document")]
    if label in PHONE_FIELDS:
        phone = PHONE_FIELDS[label]
        found.append(
            GinIndex(
                OpClass(digits(label), name="gin_trgm_ops"),
                name=f"search_{table}_phone",
                condition=~Q(**{phone: ""}),
            )
        )
    return found
