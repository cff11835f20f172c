from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("", views.home, name="home"),
    path("visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("uses/<int:pk>/outcome/", views.use_outcome, name="use-outcome"),
    path("register/", views.register_view, name="register"),
    path("loans/", views.loan_list, name="loan-list"),
    path("loans/<int:pk>/return/", views.loan_return, name="loan-return"),
    path("requests/", views.request_list, name="request-list"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("delivery/<str:token>/", views.delivery, name="delivery"),
    path("certificates/", views.certificate_list, name="certificate-list"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate-detail"),
    path("certificates/issue/", views.certificate_issue, name="certificate-issue"),
    path("certificates/<int:pk>/pdf/", views.certificate_pdf, name="certificate-pdf"),
    path("output/records/", views.output_records, name="output-records"),
    path("output/records/<int:pk>/pages/", views.choose_pages, name="choose-pages"),
    path("output/records/<int:pk>/pages/pdf/", views.output_pages, name="output-pages"),
]
