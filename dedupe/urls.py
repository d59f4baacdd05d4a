from django.urls import include, path

from .views import people

app_name = "dedupe"

urlpatterns = [
    # People (leads)
    path("people/", people.people, name="people"),
    path("people/<int:merged_id>/into/<int:survivor_id>/", people.people_merge, name="people_merge"),
    path("people/<int:first_id>/<int:second_id>/dismiss/", people.people_dismiss, name="people_dismiss"),
    # Companies (accounts)
    path("companies/", include("dedupe.urls_companies")),
]
