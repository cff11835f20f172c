from django.urls import path

from . import views

app_name = "stats"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tables/<slug:name>.xlsx", views.table_export, name="table-export"),
    path("report/", views.report, name="report"),
    path("province/", views.province, name="province"),
    path("report/<int:year>.<str:fmt>", views.report_export, name="report-export"),
]
