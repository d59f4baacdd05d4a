from django.urls import path

from . import views

app_name = "work"

# The manager's breach review.
urlpatterns = [
    path("breaches/", views.breach_review, name="breaches"),
    path("breaches/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge_breach"),
]
