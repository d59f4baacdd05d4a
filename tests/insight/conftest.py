"""Fixtures the insight tests share."""

import pytest


@pytest.fixture
def refresh_facts(db):
    """Call it after creating data: rebuilds every lead's fact and returns how many were written."""
    from insight import facts

    return facts.rebuild
