"""A user's saved searches (the index itself is plain tables: see the migrations)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedSearch(models.Model):
    """保存的检索: a search a user runs again by its name.

    Only the question is kept (the search page's query string), never its answer: running it
    again searches with the user's rights of that moment, so records closed since are not shown
    and a field the user may no longer see is refused with the search page's message.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.TextField(_("query"))
    created_at = models.DateTimeField(_("saved"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_search_name_per_user")
        ]

    def __str__(self):
        return self.name
