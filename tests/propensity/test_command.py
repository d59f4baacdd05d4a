"""The nightly task and ``manage.py train_propensity``."""

from io import StringIO

import pytest
from django.core.management import call_command

from propensity.models import ModelVersion, Target
from propensity.tasks import train_models


@pytest.mark.django_db
def test_the_command_says_what_each_model_learned(planted_history):
    out = StringIO()
    call_command("train_propensity", stdout=out)
    said = out.getvalue()
    accepted = ModelVersion.objects.active(Target.ACCEPTED)
    assert accepted is not None
    assert f"Lead becomes an accepted opportunity: version {accepted.pk}, 3000 outcomes" in said
    assert f"held-out AUC {accepted.auc:.3f} (fit score {accepted.fit_auc:.3f})" in said
    # no contract has an outcome in the planted history
    assert "Contract is renewed (not churned): too little history, 0 outcomes" in said


@pytest.mark.django_db
def test_the_command_can_keep_a_version_without_using_it(planted_history):
    call_command("train_propensity", "--target", "accepted", "--no-activate", verbosity=0)
    version = ModelVersion.objects.get()
    assert version.status == ModelVersion.Status.READY and not version.is_active


@pytest.mark.django_db
def test_the_nightly_task_trains_every_target(planted_history):
    ids = train_models()
    assert [ModelVersion.objects.get(pk=i).target for i in ids] == [
        Target.WON,
        Target.RENEWED,
        Target.ACCEPTED,
    ]
