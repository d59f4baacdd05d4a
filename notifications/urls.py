from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("settings/", views.email_settings, name="settings"),
    path("read-all/", views.read_all, name="read_all"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("<int:pk>/read/", views.read_one, name="read"),
]
