from django.urls import path

from . import filing_views, views

app_name = "intake"
urlpatterns = [
    path("import/", views.import_start, name="import-start"),
    path("import/<int:pk>/", views.import_mapping, name="import-mapping"),
    path("import/<int:pk>/result/", views.import_result, name="import-result"),
    path("import/<int:pk>/discard/", views.import_discard, name="import-discard"),
    path("handover/", views.handover_lists, name="handover-lists"),
    path("handover/<int:pk>/", views.handover_detail, name="handover-detail"),
    path("handover/<int:pk>/items/<int:item_pk>/", views.handover_item, name="handover-item"),
    path("handover/<int:pk>/report/", views.handover_report, name="handover-report"),
    path("handover/<int:pk>/register/", views.handover_register, name="handover-register"),
    path("handover/package/", views.package_receive, name="package-receive"),
    path("senders/", filing_views.senders, name="senders"),
    path("senders/<int:pk>/", filing_views.sender_change, name="sender-change"),
    path("filings/", filing_views.filing_queue, name="filing-queue"),
    path("filings/<int:pk>/", filing_views.filing_detail, name="filing-detail"),
    path("filings/reconciliation/", filing_views.reconciliation, name="reconciliation"),
]
