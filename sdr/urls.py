app_name = "sdr"

# The SDR's queue pages (filled in by the queue work).
urlpatterns: list = []
