"""The search vocabulary: every word the searchable records hold (``search.vocabulary``)."""

from django.db import models


class Word(models.Model):
    """One lower-case word of at least three letters found in a searched document (a lead's or
    contact's name, email or company, an account's name or domain, an opportunity's name). A typo is corrected against these few thousand words (a trigram index on
    this small table), never by comparing it with every document of a million leads."""

    word = models.CharField(max_length=64, primary_key=True)

    def __str__(self) -> str:
        return self.word
