from django.urls import path

from .views import tracking

app_name = "mail"

urlpatterns = [
    # Public, signed: the open pixel, tracked clicks, the one-click unsubscribe.
    path("m/o/<str:token>.gif", tracking.open_pixel, name="open"),
    path("m/c/<str:token>/", tracking.click, name="click"),
    path("m/u/<str:token>/", tracking.unsubscribe, name="unsubscribe"),
]
