from django.urls import path

from . import views

app_name = "digitize"
urlpatterns = [
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/unnamed/<int:index>/", views.unnamed_folder, name="unnamed-folder"),
    path("pages/<int:pk>/", views.page_view, name="page-view"),
    path("pages/<int:pk>/retry/", views.page_retry, name="page-retry"),
    path("pages/<int:pk>/<str:kind>/", views.page_derivative, name="page-derivative"),
]
