from django.db import models
from django.utils.translation import gettext_lazy as _


class Holding(models.Model):
    """馆藏数量: how many records share one combination of the columns the dashboard groups by
    and the grants filter by.

    Kept by database triggers on the records table (``stats.holdings_triggers``), so every way a
    record is written — a clerk's form, a 100,000-row import, a destruction, an SQL fix — is
    counted in the same transaction. The dashboard sums these few thousand rows instead of
    grouping a million records. The foreign keys carry the records' column names, so the
    grants' filter (``accounts.selectors.record_scope``) applies to this table unchanged.
    Rows are never unique by construction (two writers may add the same combination at once):
    every reader sums.
    """

    fonds = models.ForeignKey(
        "catalogue.Fonds", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    category = models.ForeignKey(
        "catalogue.Category", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    unit = models.ForeignKey(
        "accounts.Unit",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    secrecy = models.PositiveSmallIntegerField()
    year = models.PositiveSmallIntegerField()
    retention = models.CharField(max_length=4)
    level = models.CharField(max_length=8)
    state = models.CharField(max_length=8)
    n = models.IntegerField(_("records"), default=0)

    class Meta:
        verbose_name = _("holdings count")
        verbose_name_plural = _("holdings counts")
        # The triggers find a combination by all its columns: one index seek per record written.
        indexes = [
            models.Index(
                fields=[
                    "category",
                    "year",
                    "fonds",
                    "unit",
                    "secrecy",
                    "retention",
                    "level",
                    "state",
                ],
                name="holding_lookup",
            )
        ]

    def __str__(self):
        return f"{self.category_id}/{self.year}/{self.state}: {self.n}"
