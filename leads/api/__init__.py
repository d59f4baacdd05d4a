"""REST API for leads: capture, list and filter, read with timeline, log activities, rate
(``views``: the viewsets and their permissions; ``serializers``). ``config.api`` registers the
viewsets."""

from .views import CampaignViewSet, LeadViewSet

__all__ = ["CampaignViewSet", "LeadViewSet"]
