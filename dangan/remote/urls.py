from django.urls import path

from . import views

app_name = "remote"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("<int:pk>/", views.desk_detail, name="desk-detail"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("copies/<int:pk>/pdf/", views.copy_pdf, name="copy-pdf"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.inbox_detail, name="inbox-detail"),
    path("peers/", views.peers, name="peers"),
    path("messages/", views.receive, name="receive"),
]
