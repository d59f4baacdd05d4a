from django.urls import include, path

from . import views

app_name = "sdr"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/items/<int:item_id>/", views.item_detail, name="item"),
    path("queue/items/<int:item_id>/touch/", views.log_touch, name="touch"),
    path("queue/items/<int:item_id>/follow-up/", views.set_follow_up, name="follow_up"),
    path("queue/items/<int:item_id>/dispose/", views.dispose, name="dispose"),
    path("", include("sdr.cadence_urls")),
]
