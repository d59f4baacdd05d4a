"""The accounts app's pages: the AE's inbox and pipeline, the SDR's handoff form, and the
outbound SDR's target accounts. Each part keeps its own URL module."""

from . import handoff_urls, pipeline_urls, target_urls

app_name = "accounts"

urlpatterns = [*pipeline_urls.urlpatterns, *handoff_urls.urlpatterns, *target_urls.urlpatterns]
