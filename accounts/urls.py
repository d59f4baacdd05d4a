"""The accounts app's pages: the AE's inbox and pipeline, one opportunity's page and its actions,
the manager's early losses, the SDR's hand-off form, and the outbound SDR's target accounts."""

from django.urls import path

from .views import early_losses, exports, handoff, inbox, opportunity, pipeline, targets

app_name = "accounts"

urlpatterns = [
    # the AE's inbox and pipeline, one opportunity, the manager's early losses
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/live/", inbox.inbox_live, name="inbox_live"),
    path("pipeline/", pipeline.pipeline, name="pipeline"),
    path("pipeline/export/", exports.pipeline_export, name="pipeline_export"),
    path("opportunities/early-losses/", early_losses.early_losses, name="early_losses"),
    path("opportunities/<int:pk>/", opportunity.opportunity_page, name="opportunity"),
    path("opportunities/<int:pk>/accept/", inbox.accept, name="accept"),
    path("opportunities/<int:pk>/reject/", inbox.reject, name="reject"),
    path("opportunities/<int:pk>/move/", opportunity.move, name="move"),
    path("opportunities/<int:pk>/details/", opportunity.details, name="details"),
    path("opportunities/<int:pk>/log/", opportunity.log_work, name="log_work"),
    # the SDR's hand-off
    path("leads/<int:lead_id>/hand-off/", handoff.handoff, name="handoff"),
    # the outbound SDR's target accounts
    path("targets/", targets.targets, name="targets"),
    path("targets/<int:pk>/", targets.target, name="target"),
    path("targets/<int:pk>/assign/", targets.assign, name="target_assign"),
    path("targets/<int:pk>/prospects/", targets.add_prospect, name="target_add_prospect"),
    path("targets/<int:pk>/prospects/import/", targets.import_prospects, name="target_import"),
]
