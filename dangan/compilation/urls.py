from django.urls import path

from . import views

app_name = "compilation"
urlpatterns = [
    path("", views.home, name="home"),
    path("cite/", views.cite, name="cite"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/entries/", views.entry_add, name="entry-add"),
    path("<int:pk>/entries/<int:entry>/", views.entry_edit, name="entry-edit"),
    path("<int:pk>/entries/<int:entry>/move/", views.entry_move, name="entry-move"),
    path("<int:pk>/entries/<int:entry>/remove/", views.entry_remove, name="entry-remove"),
    path("<int:pk>/citations/<int:citation>/remove/", views.citation_remove, name="uncite"),
    path("<int:pk>/sort/", views.sort_by_date, name="sort"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/versions/<int:version>/", views.decide, name="decide"),
    path("<int:pk>/export/", views.export, name="export"),
    path("exhibitions/<int:pk>/", views.exhibition, name="exhibition"),
    path("exhibitions/<int:pk>/change/", views.exhibition_act, name="exhibition-act"),
]
