from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("dangan.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("dangan.accounts.urls")),
    path("audit/", include("dangan.audit.urls")),
    path("alerts/", include("dangan.alerts.urls")),
    path("jobs/", include("dangan.jobs.urls")),
    path("catalogue/", include("dangan.catalogue.urls")),
    path("people/", include("dangan.catalogue.person_urls")),
    path("intake/", include("dangan.intake.urls")),
    path("content/", include("dangan.content.urls")),
    path("search/", include("dangan.search.urls")),
    path("digitize/", include("dangan.digitize.urls")),
    path("stacks/", include("dangan.stacks.urls")),
    path("stats/", include("dangan.stats.urls")),
    path("appraisal/", include("dangan.appraisal.urls")),
    path("storage/", include("dangan.integrity.storage_urls")),
    path("integrity/", include("dangan.integrity.urls")),
    path("oversight/", include("dangan.oversight.urls")),
    path("portal/", include("dangan.portal.urls")),
    path("access/", include("dangan.access.urls")),
    path("verify/", include("dangan.access.verify_urls")),
    path("remote/", include("dangan.remote.urls")),
    path("assist/", include("dangan.assist.urls")),
    path("compilation/", include("dangan.compilation.urls")),
    path("exhibitions/", include("dangan.compilation.exhibition_urls")),
    path("", include("dangan.ops.urls")),
    path("", include("dangan.site.urls")),
]

handler404 = "dangan.security.errorpages.page_not_found"
handler500 = "dangan.security.errorpages.server_error"
