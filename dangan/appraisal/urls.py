from django.urls import path

from . import views

app_name = "appraisal"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("due/", views.due, name="due"),
    path("holds/", views.holds, name="holds"),
    path("holds/<int:pk>/release/", views.hold_release, name="hold-release"),
    path("batches/new/", views.batch_create, name="batch-create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/close/", views.batch_close, name="batch-close"),
    path("batches/<int:pk>/approve/", views.batch_approve, name="batch-approve"),
    path("batches/<int:pk>/destruction/", views.destruction_propose, name="destruction-propose"),
    path("destruction/<int:pk>/", views.destruction_detail, name="destruction-detail"),
    path("destruction/<int:pk>/approve/", views.destruction_approve, name="destruction-approve"),
    path("destruction/<int:pk>/reject/", views.destruction_reject, name="destruction-reject"),
    path(
        "destruction/<int:pk>/certificate.pdf",
        views.destruction_certificate,
        name="destruction-certificate",
    ),
    path("transfers/", views.transfers, name="transfers"),
]
