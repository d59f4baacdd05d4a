"""The legal forms written at the end of a company's name ("GmbH", "Inc.", "S.A."): words that say
what kind of company it is, not which. Both duplicate finders (``dedupe.people``'s company key
and ``dedupe.companies``' normalised account name) strip them, from this one list, so "Acme
GmbH" and "ACME Inc." meet alike as a lead's company and as an account's name.

Lower case, without punctuation: names are compared after dropping dots and commas, so "S.A."
is "sa" and "S.L." is "sl"."""

LEGAL_SUFFIXES = frozenset(
    [
        # German-speaking countries
        "gmbh", "mbh", "ag", "kg", "ohg", "ug", "se",
        # English-speaking countries
        "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited",
        "llc", "llp", "lp", "plc", "pty",
        # Romance-language countries
        "sa", "sas", "sarl", "srl", "spa", "sl",
        # Benelux, Nordics, Japan
        "bv", "nv", "oy", "ab", "as", "asa", "aps", "kk",
    ]
)  # fmt: skip
