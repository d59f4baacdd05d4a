from django.urls import path  # noqa: F401

app_name = "work"

# The manager's breach review.
urlpatterns: list = []
