"""The "Best customers" page: who sees it, what it says, the suggested profile weights and
their one-step application."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from leads.models import FitCriterion
from propensity import services
from propensity.models import Target
from team.models import Role
from tests.factories import UserFactory

URL = reverse("propensity:best_customers")
APPLY = reverse("propensity:apply_suggestions")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.INBOUND_SDR, Role.OUTBOUND_SDR, Role.AE, Role.AM, Role.INTEGRATION])
def test_reps_and_integrations_get_403(client_for, role):
    client = client_for(UserFactory(role=role))
    assert client.get(URL).status_code == 403
    assert client.post(APPLY, {"version": 1}).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(client):
    assert client.get(URL).status_code == 302


@pytest.mark.django_db
def test_without_history_the_page_says_plainly_the_fit_score_stays(client_for, manager):
    services.train(target=Target.WON)
    body = client_for(manager).get(URL).content.decode()
    assert "Too little history to learn from yet" in body
    assert "No model has been trained yet" in body  # the targets not trained
    assert "The fit score stays in use." in body


@pytest.mark.django_db
@pytest.mark.parametrize("trained", [False, True])
def test_the_page_issues_a_fixed_number_of_queries(
    client_for, manager, planted_history, trained, django_assert_num_queries
):
    if trained:
        services.train(target=Target.ACCEPTED)
    client = client_for(manager)
    # session, user, the top bar (2), the active versions, the latest of each of 3 targets,
    # the won and the accepted active model (suggestions), the profile, its criteria
    with django_assert_num_queries(12):
        assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_the_page_shows_what_raises_and_lowers_the_odds_with_the_outcomes_behind(
    client_for, marketing, planted_history
):
    version = services.train(target=Target.ACCEPTED)
    body = client_for(marketing).get(URL).content.decode()
    vp = next(f for f in version.coefficients["features"] if f["key"] == "seniority=vp")
    assert "Becoming an accepted opportunity" in body
    assert f"AUC {version.auc:.3f} against the fit score's {version.fit_auc:.3f}" in body
    assert "It beats the fit score." in body
    assert "<td>VP-level title</td><td>\N{MULTIPLICATION SIGN}" in body
    assert f"{vp['n']:,}" in body
    assert "<td>Came from purchased list</td>" in body


@pytest.mark.django_db
def test_the_suggested_profile_changes_point_the_right_way(planted_history, profile_guess):
    from propensity.presenters import suggestions

    services.train(target=Target.ACCEPTED)
    seniority, retail = profile_guess
    rows = {r.criterion.pk: r for r in suggestions().rows}
    assert rows[seniority.pk].effect > 0 and rows[seniority.pk].suggested > seniority.points
    assert rows[retail.pk].effect < 0 and rows[retail.pk].suggested < retail.points


@pytest.mark.django_db
def test_suggestions_come_only_from_a_model_that_beats_the_profile(
    planted_history, profile_guess, client_for, manager
):
    from propensity.presenters import suggestions

    # A won model no better than the profile on held-out outcomes (its AUC set to the fit
    # score's): its weights would rewrite the profile at random.
    won = services.train(target=Target.WON)
    won.auc = won.fit_auc
    won.save(update_fields=["auc"])
    assert not won.beats_fit(0.01)
    assert suggestions().rows == []
    body = client_for(manager).get(URL).content.decode()
    assert 'id="no-better-model"' in body and "the profile stays as it is" in body
    assert 'action="/best-customers/apply-suggestions/"' not in body

    accepted = services.train(target=Target.ACCEPTED)

    shown = suggestions()
    assert shown.version == accepted and shown.not_better == (won,)
    assert shown.rows


@pytest.mark.django_db
def test_an_admin_applies_the_suggestions_in_one_step(
    client_for, planted_history, profile_guess, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    version = services.train(target=Target.ACCEPTED)
    seniority, retail = profile_guess
    marketer = UserFactory(role=Role.MARKETING)
    assert client_for(marketer).post(APPLY, {"version": version.pk}).status_code == 403  # no admin right
    marketer.user_permissions.add(Permission.objects.get(codename="change_fitcriterion"))
    client = client_for(marketer)

    assert 'action="/best-customers/apply-suggestions/"' in client.get(URL).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(APPLY, {"version": version.pk})

    assert response.status_code == 302
    # (the re-score's own message is added once the transaction commits, after this response
    # here, where the test captures the commit callbacks)
    assert next(str(m) for m in client.get(URL).context["messages"]) == "2 criteria changed."
    seniority.refresh_from_db()
    retail.refresh_from_db()
    assert seniority.points > 10 and retail.points == 1
    # the fit scores were recomputed with the new weights (the worker ran eagerly)
    from leads.models import Lead

    vp = Lead.objects.filter(seniority="vp").exclude(industry="Retail").first()
    assert vp.fit_score == 100 * seniority.points // (seniority.points + retail.points)


@pytest.mark.django_db
def test_applying_for_a_version_no_longer_in_use_is_a_conflict(client_for, planted_history, admin_user):
    old = services.train(target=Target.ACCEPTED)
    services.train(target=Target.ACCEPTED)
    response = client_for(admin_user).post(APPLY, {"version": old.pk})
    assert response.status_code == 409
    assert "no longer in use" in response.content.decode()
    assert set(FitCriterion.objects.values_list("points", flat=True)) == {10, 20}


@pytest.mark.django_db
def test_bad_input_is_a_400_with_the_field_message(client_for, admin_user):
    response = client_for(admin_user).post(APPLY, {"version": "x"})
    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()
