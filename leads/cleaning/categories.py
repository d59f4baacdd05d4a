"""Values from a fixed set: countries as ISO codes, industries in one spelling, seniority
from a job title, fit-criterion values, channels from CRM lead sources, ratings."""

import re
from functools import lru_cache

import pycountry

from ..models import Channel, FitField, Lead, Seniority
from .text import neutralize_formula

# --- country --------------------------------------------------------------------------------

# Spellings people and CRMs use that ISO 3166 (and so pycountry) does not know.
_COUNTRY_ALIASES = {
    "us": "US",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "deutschland": "DE",
    "españa": "ES",
    "espana": "ES",
    "holland": "NL",
    "the netherlands": "NL",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "turkey": "TR",
    "uae": "AE",
}


@lru_cache(maxsize=1024)
def normalize_country(raw: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a country name or code, or "" when empty or
    unknown. Case-insensitive; dots are ignored ("U.S."). Cached: a file repeats a few
    spellings thousands of times."""
    key = " ".join((raw or "").split()).casefold()
    if not key:
        return ""
    undotted = key.replace(".", "").strip()
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    if undotted in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[undotted]
    for candidate in (key, undotted):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return ""


# --- industry, seniority, fit values ----------------------------------------------------------

_WORD_SEPARATORS = re.compile(r"[\s_-]+")
# Capitalizing word by word would write "It Services": keep the usual spelling of these.
_ACRONYMS = {"it": "IT", "ai": "AI", "hr": "HR", "saas": "SaaS", "b2b": "B2B", "b2c": "B2C"}


@lru_cache(maxsize=1024)
def normalize_industry(raw: str) -> str:
    """Return the industry in one spelling: "FINANCIAL_SERVICES", "financial services" and
    "Financial  Services" are all "Financial Services". Underscores and hyphens become
    spaces, whitespace collapses, every word is capitalized. The same function normalizes
    fit criteria, so a criterion and a lead compare equal whatever CRM wrote them."""
    words = _WORD_SEPARATORS.split((raw or "").strip())
    return neutralize_formula(
        " ".join(_ACRONYMS.get(word.casefold(), word.capitalize()) for word in words if word)
    )


# Checked in this order; the first that matches wins. "Vice President" must not count as a
# president, and a Product Owner owns a backlog, not a company.
_SENIORITY_PATTERNS = (
    (
        Seniority.C_LEVEL.value,
        re.compile(
            r"\b(?:ceo|cto|cfo|coo|cmo|cio|ciso|cro|cpo|chief|founder|owner|managing director"
            r"|(?<!vice )(?<!vice-)president)\b"
        ),
    ),
    (Seniority.VP.value, re.compile(r"\b(?:vp|svp|evp|avp|vice[ -]president)\b")),
    (Seniority.DIRECTOR.value, re.compile(r"\b(?:director|head)\b")),
    (Seniority.MANAGER.value, re.compile(r"\b(?:manager|lead|supervisor)\b")),
)
_NOT_AN_OWNER = re.compile(r"\b(?:product|process|business) owner\b")


@lru_cache(maxsize=4096)
def seniority_from_title(title: str) -> str:
    """Return the ``Seniority`` value a job title implies ("" when there is no title).

    Whole words, case-insensitive: "Director of IT" is director, "VP of Sales" vp, "Sales
    Manager" manager; any other title ("Intern", "Procurement Specialist") is individual.
    A Managing Director runs the company (the UK and German top executive), so c_level.
    """
    text = " ".join((title or "").split()).casefold()
    if not text:
        return Seniority.UNKNOWN.value
    text = _NOT_AN_OWNER.sub(" ", text)
    for seniority, pattern in _SENIORITY_PATTERNS:
        if pattern.search(text):
            return seniority
    return Seniority.INDIVIDUAL.value


_SENIORITY_ALIASES = {
    "c-level": Seniority.C_LEVEL.value,
    "c level": Seniority.C_LEVEL.value,
    "clevel": Seniority.C_LEVEL.value,
    "c-suite": Seniority.C_LEVEL.value,
    "executive": Seniority.C_LEVEL.value,
    "founder": Seniority.C_LEVEL.value,
    "vice president": Seniority.VP.value,
    "director": Seniority.DIRECTOR.value,
    "head": Seniority.DIRECTOR.value,
    "individual": Seniority.INDIVIDUAL.value,
    "ic": Seniority.INDIVIDUAL.value,
    **{label.casefold(): value for value, label in Seniority.choices if value},
    **{value: value for value in Seniority.values if value},
}


def normalize_fit_value(field: str, raw: str) -> str:
    """Normalize one accepted value of an ideal-customer-profile criterion the way lead data
    is normalized, so criteria and leads compare equal: industries by ``normalize_industry``,
    countries to ISO codes ("" when unknown), seniorities to a ``Seniority`` value (values or
    labels such as "VP" and "C-level"; "" when unknown). Other fields are only trimmed."""
    if field == FitField.INDUSTRY:
        return normalize_industry(raw)
    if field == FitField.COUNTRY:
        return normalize_country(raw)
    if field == FitField.SENIORITY:
        key = " ".join((raw or "").replace("_", " ").split()).casefold()
        return _SENIORITY_ALIASES.get(key, "")
    return (raw or "").strip()


# --- source and rating ----------------------------------------------------------------------

_CHANNEL_WORDS = {
    # Salesforce lead sources
    "web": Channel.WEB,
    "website": Channel.WEB,
    "web form": Channel.WEB,
    "web site": Channel.WEB,
    "partner referral": Channel.PARTNER,
    "partner": Channel.PARTNER,
    "reseller": Channel.PARTNER,
    "channel partner": Channel.PARTNER,
    "webinar": Channel.WEBINAR,
    "phone inquiry": Channel.PHONE,
    "phone": Channel.PHONE,
    "inbound call": Channel.PHONE,
    "call": Channel.PHONE,
    "trade show": Channel.EVENT,
    "tradeshow": Channel.EVENT,
    "event": Channel.EVENT,
    "conference": Channel.EVENT,
    "seminar": Channel.EVENT,
    "expo": Channel.EVENT,
    "meetup": Channel.EVENT,
    "purchased list": Channel.LIST,
    "list": Channel.LIST,
    "list import": Channel.LIST,
    "other": Channel.OTHER,
    # HubSpot original sources (underscores become spaces before the lookup)
    "organic search": Channel.ORGANIC_SEARCH,
    "seo": Channel.ORGANIC_SEARCH,
    "paid search": Channel.PAID_SEARCH,
    "google ads": Channel.PAID_SEARCH,
    "adwords": Channel.PAID_SEARCH,
    "bing ads": Channel.PAID_SEARCH,
    "ppc": Channel.PAID_SEARCH,
    "sem": Channel.PAID_SEARCH,
    "email marketing": Channel.EMAIL,
    "email": Channel.EMAIL,
    "e-mail": Channel.EMAIL,
    "newsletter": Channel.EMAIL,
    "social media": Channel.SOCIAL,
    "paid social": Channel.SOCIAL,
    "social": Channel.SOCIAL,
    "linkedin": Channel.SOCIAL,
    "facebook": Channel.SOCIAL,
    "twitter": Channel.SOCIAL,
    "instagram": Channel.SOCIAL,
    "referrals": Channel.REFERRAL,
    "referral": Channel.REFERRAL,
    "word of mouth": Channel.REFERRAL,
    "customer referral": Channel.REFERRAL,
    "employee referral": Channel.REFERRAL,
    "direct traffic": Channel.DIRECT,
    "direct": Channel.DIRECT,
    "offline": Channel.OFFLINE,
    "offline sources": Channel.OFFLINE,
    "outbound": Channel.OUTBOUND,
    "outbound prospecting": Channel.OUTBOUND,
    "prospecting": Channel.OUTBOUND,
    "cold call": Channel.OUTBOUND,
    "cold email": Channel.OUTBOUND,
    # Refinery's own values and labels, so an export of ours imports back unchanged.
    **{value.replace("_", " "): Channel(value) for value in Channel.values},
    **{label.casefold(): Channel(value) for value, label in Channel.choices},
}


@lru_cache(maxsize=1024)
def channel_from_source(raw: str) -> str:
    """Return the ``Channel`` value for a CRM lead-source label (Salesforce "Partner Referral",
    HubSpot "EMAIL_MARKETING", "Google Ads", ...); "other" when empty or unknown."""
    key = " ".join((raw or "").replace("_", " ").split()).casefold()
    return _CHANNEL_WORDS.get(key, Channel.OTHER).value


_RATINGS = {
    "hot": Lead.Rating.A.value,
    "warm": Lead.Rating.B.value,
    "cold": Lead.Rating.C.value,
    # Our own letters, so an export of ours imports back unchanged.
    **{value.casefold(): value for value in Lead.Rating.values if value},
}


def rating_from_external(raw: str) -> str:
    """Return the ``Lead.Rating`` for a CRM rating: Hot A, Warm B, Cold C ("" otherwise)."""
    return _RATINGS.get((raw or "").strip().casefold(), Lead.Rating.NONE.value)
