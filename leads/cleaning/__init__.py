"""Normalizers shared by the web form, the API and the CSV import.

Each takes raw text as a person or a CRM export wrote it and returns the value Refinery stores,
so a form fill and an imported row of the same person store the same values. A normalizer
raises ``ValueError`` with a reason a user understands only where the input is unusable (an
invalid email, an oversized text); a value that is merely unknown (``"n/a"`` employees, an
unheard-of country) becomes empty, because not knowing something is no reason to refuse a
lead.

Pure Python and free of database access: the import calls these functions for every row.

``text``: emails, free text, phones; ``numbers``: employees and revenue; ``dates``; and
``categories``: countries, industries, seniority, fit values, channels, ratings.
"""

from .categories import (
    channel_from_source,
    normalize_country,
    normalize_fit_value,
    normalize_industry,
    rating_from_external,
    seniority_from_title,
)
from .dates import parse_datetime_loose
from .numbers import parse_employees, parse_revenue
from .text import clean_phone, clean_text, neutralize_formula, normalize_email

__all__ = [
    "channel_from_source",
    "clean_phone",
    "clean_text",
    "neutralize_formula",
    "normalize_country",
    "normalize_email",
    "normalize_fit_value",
    "normalize_industry",
    "parse_datetime_loose",
    "parse_employees",
    "parse_revenue",
    "rating_from_external",
    "seniority_from_title",
]
