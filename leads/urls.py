from django.urls import path

from . import views
from .views.import_undo import import_undo

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("export/", views.lead_export, name="export"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/activities/", views.log_activity, name="log_activity"),
    path("<int:pk>/rating/", views.set_rating, name="set_rating"),
    path("views/", views.create_view, name="view_create"),
    path("views/<int:pk>/", views.edit_view, name="view_edit"),
    path("views/<int:pk>/update/", views.update_view, name="view_update"),
    path("views/<int:pk>/delete/", views.delete_view, name="view_delete"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/for-real/", views.import_for_real, name="import_for_real"),
    path("imports/<int:pk>/refused.csv", views.refused_rows, name="import_refused"),
    path("imports/<int:pk>/undo/", import_undo, name="import_undo"),
]
