from django.urls import path

from . import views

app_name = "oversight"
urlpatterns = [
    path("", views.home, name="home"),
    path("surveys/", views.survey_list, name="survey-list"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey-detail"),
    path("surveys/<int:pk>/answer/", views.survey_answer, name="survey-answer"),
    path("surveys/<int:pk>/close/", views.survey_close, name="survey-close"),
    path("checklist/", views.checklist, name="checklist"),
    path("checklist/<int:pk>/", views.checklist_item, name="checklist-item"),
    path("inspections/", views.inspection_list, name="inspection-list"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection-detail"),
    path("inspections/<int:pk>/facts/", views.inspection_facts, name="inspection-facts"),
    path("inspections/<int:pk>/report.pdf", views.inspection_report, name="inspection-report"),
    path("inspections/<int:pk>/findings/", views.finding_create, name="finding-create"),
    path("findings/<int:pk>/close/", views.finding_close, name="finding-close"),
    path("findings/<int:pk>/photos/", views.finding_photos, name="finding-photos"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("keepers/", views.keeper_overview, name="keepers"),
    path(
        "keepers/<int:pk>/qualifications/", views.keeper_qualification, name="keeper-qualification"
    ),
    path("keepers/<int:pk>/leave/", views.keeper_leave, name="keeper-leave"),
    path("units/<int:pk>/", views.unit_detail, name="unit-detail"),
    path("units/<int:pk>/rooms/", views.unit_room, name="unit-room"),
    path("custody/", views.custody_list, name="custody-list"),
    path("custody/<int:pk>/", views.custody_detail, name="custody-detail"),
    path("custody/<int:pk>/items/", views.custody_item, name="custody-item"),
]
