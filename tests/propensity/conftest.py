from datetime import UTC, datetime

import pytest

from leads.models import FitCriterion, IdealCustomerProfile
from leads.services import recompute_fit_scores
from propensity import planted

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def profile_guess(db):
    """A hand-written profile with one right criterion (VP and C-level titles) and one wrong
    one (retail, which the planted history marks down)."""
    profile = IdealCustomerProfile.objects.create(name="Our guess")
    seniority = FitCriterion.objects.create(
        profile=profile, field="seniority", values="vp, c_level", points=10
    )
    retail = FitCriterion.objects.create(profile=profile, field="industry", values="Retail", points=20)
    return seniority, retail


@pytest.fixture
def planted_history(db, ae, profile_guess):
    """3,000 closed leads with a planted propensity, their fit scores computed."""
    drawn = planted.plant(3000, start=START, ae=ae)
    recompute_fit_scores()
    return drawn
