from django.urls import path

from . import views

app_name = "team"

urlpatterns = [
    path("account/preferences/", views.preferences, name="preferences"),
    path("account/tokens/", views.api_tokens, name="api_tokens"),
]
