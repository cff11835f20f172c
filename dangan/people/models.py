from django.db import models
from django.utils.translation import gettext_lazy as _


class Person(models.Model):
    """A person records concern, keyed by the 18-digit national ID number: one person, one file."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    id_number = models.CharField(_("national ID number"), max_length=18, unique=True)
    id_number_15 = models.CharField(
        _("old 15-digit number"), max_length=15, blank=True, db_index=True
    )
    name = models.CharField(_("name"), max_length=50, db_index=True)
    #: ``names.fold(name)``: simplified, width-folded, no spaces, so that a search for 万平德
    #: also finds a file written 萬平德. Set by ``services.resolve_persons``.
    name_folded = models.CharField(max_length=50, blank=True, db_index=True, editable=False)
    #: The number written backwards, so that "the last six digits" is an indexed prefix search.
    id_reversed = models.CharField(max_length=18, blank=True, db_index=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    #: Set when this row was found to be the same person as another and merged into it
    #: (``services.merge_persons``); the row is kept so that the merge can be undone.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["name", "id_number"]

    def __str__(self):
        from .id_numbers import mask

        return f"{self.name} ({mask(self.id_number)})"


class RecordPerson(models.Model):
    """That a record concerns a person, and how (the subject of a person file, a party, …)."""

    class Role(models.TextChoices):
        SUBJECT = "subject", _("Subject")
        PARTY = "party", _("Party")

    record = models.ForeignKey(
        "catalogue.Record", on_delete=models.CASCADE, related_name="person_links"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="record_links")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.SUBJECT)
    #: The person's place among the record's persons (0 first): part of what the ledger covers.
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "person"], name="record_person_unique")
        ]

    def __str__(self):
        return f"{self.record_id} ↔ {self.person_id} ({self.role})"


class PersonMerge(models.Model):
    """Two person rows found to be one person: ``merged``'s links moved to ``kept``, undoable.

    ``links`` keeps which links moved (their ids), so that an undo moves exactly those back.
    """

    kept = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_merged")
    links = models.JSONField(default=list)
    reason = models.TextField(_("reason"))
    merged_by = models.CharField(_("merged by"), max_length=150)
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)
    undone_by = models.CharField(_("undone by"), max_length=150, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undo_reason = models.TextField(_("reason for the undo"), blank=True)

    class Meta:
        verbose_name = _("merge of persons")
        verbose_name_plural = _("merges of persons")
        ordering = ["-merged_at", "-id"]

    def __str__(self):
        return f"{self.merged_id} → {self.kept_id}"
