"""Learning from a planted history: the learned model is as good as the truth on held-out
leads, training is deterministic, too little history is said plainly."""

from datetime import UTC, datetime

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from leads.models import FitCriterion, IdealCustomerProfile, Lead
from leads.services import recompute_fit_scores
from propensity import planted, services
from propensity.models import ModelVersion, Target

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
N = 6000


@pytest.fixture
def history(db, ae, settings):
    settings.PROPENSITY_HOLDOUT_SHARE = 0.2
    profile = IdealCustomerProfile.objects.create(name="Our guess")
    FitCriterion.objects.create(profile=profile, field="seniority", values="vp, c_level", points=10)
    FitCriterion.objects.create(profile=profile, field="industry", values="Retail", points=20)
    drawn = planted.plant(N, start=START, ae=ae)
    recompute_fit_scores()
    return drawn


@pytest.mark.django_db
def test_learned_model_is_within_003_of_the_oracle_on_held_out_leads(history):
    version = services.train(target=Target.ACCEPTED)

    held_out = slice(round(N * 0.8), N)
    oracle = roc_auc_score(history.accepted[held_out], history.log_odds[held_out])
    assert version.status == ModelVersion.Status.READY and version.is_active
    assert version.held_out_outcomes == N - round(N * 0.8)
    assert abs(version.auc - oracle) <= 0.03
    # the hand-written profile (one good criterion, one wrong one) loses to the learned model
    assert version.auc > version.fit_auc
    weights = version.weights
    assert weights["seniority=vp"] > weights["seniority=individual"]
    assert weights["channel=list"] < weights["channel=referral"]
    assert weights["hand_raiser=True"] > 0.8


@pytest.mark.django_db
def test_training_is_deterministic(history):
    first = services.train(target=Target.ACCEPTED, activate=False)
    second = services.train(target=Target.ACCEPTED, activate=False)
    assert first.coefficients == second.coefficients
    assert (first.auc, first.brier, first.calibration) == (second.auc, second.brier, second.calibration)


@pytest.mark.django_db
def test_calibration_and_counts_are_stored(history):
    version = services.train(target=Target.ACCEPTED)
    assert sum(b["n"] for b in version.calibration) == version.held_out_outcomes
    for b in version.calibration:
        if b["n"] >= 100:
            assert abs(b["predicted"] - b["observed"]) < 0.1
    assert version.train_positives + version.held_out_positives == int(history.accepted.sum())
    vp = next(f for f in version.coefficients["features"] if f["key"] == "seniority=vp")
    assert vp["n"] == int((history.seniority == "vp").sum())
    assert vp["positives"] == int(((history.seniority == "vp") & history.accepted).sum())
    assert vp["words"] == "VP-level title"
    assert version.brier < 0.25


@pytest.mark.django_db
def test_too_little_history_is_said_plainly_and_nothing_changes(ae, settings):
    settings.PROPENSITY_MIN_OUTCOMES = 50
    planted.plant(60, start=START, ae=ae)

    version = services.train(target=Target.ACCEPTED)

    assert version.status == ModelVersion.Status.TOO_LITTLE
    assert not version.is_active and version.coefficients == {}
    assert version.outcomes == 60
    assert not Lead.objects.filter(propensity__isnull=False).exists()
    assert ModelVersion.objects.active(Target.ACCEPTED) is None


@pytest.mark.django_db
def test_no_history_at_all_is_too_little(db):
    version = services.train(target=Target.WON)
    assert version.status == ModelVersion.Status.TOO_LITTLE and version.outcomes == 0


def test_encoding_bands_and_unknowns():
    from propensity import features

    vocab = features.Vocabulary()
    rows = [
        ("vp", "Software", 10, None, "de", "list", None, True, "", START, None),
        ("", "", 11, 5_000_000, "", "web", 3, False, "salesforce", START, START.replace(minute=3)),
    ]
    idx = features.encode(rows, vocab, grow=True)
    keys = [[vocab.keys[i] for i in row if i >= 0] for row in idx]
    assert keys[0] == [
        "seniority=vp",
        "industry=Software",
        "employees=1-10",
        "revenue=unknown",
        "country=DE",
        "channel=list",
        "hand_raiser=True",
    ]
    assert keys[1] == [
        "seniority=",
        "industry=",
        "employees=11-50",
        "revenue=1M-10M",
        "country=",
        "channel=web",
        "campaign=3",
        "system=salesforce",
        "first_touch=5m",
    ]
    x = features.to_matrix(idx, len(vocab))
    assert np.asarray(x.sum(axis=1)).ravel().tolist() == [7, 9]
