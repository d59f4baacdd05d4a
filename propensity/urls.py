from django.urls import path

from . import views

app_name = "propensity"

urlpatterns = [
    path("", views.best_customers, name="best_customers"),
    path("apply-suggestions/", views.apply_suggestions, name="apply_suggestions"),
]
