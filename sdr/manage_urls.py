from django.urls import path  # noqa: F401

app_name = "sdr_manage"

# A manager's team queues and reassignment pages.
urlpatterns: list = []
