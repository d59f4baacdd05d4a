"""The /api/v1/ router: every app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

import accounts.api
import insight.api
import notifications.api
import renewals.api
import sdr.api
import team.api
import work.api
from leads.api import CampaignViewSet, LeadViewSet

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("campaigns", CampaignViewSet, basename="campaign")
sdr.api.register(router)
work.api.register(router)
accounts.api.register(router)
renewals.api.register(router)
team.api.register(router)
insight.api.register(router)
notifications.api.register(router)
