"""Compilation (编研) and online exhibitions (网上展览): records put to use beyond single look-ups.

A ``Compilation`` (编研成果) is a topic compilation (专题汇编), a chronicle (大事记) or an
organisational history (组织沿革); its ``Entry`` rows cite records by archival code
(``Citation``: the code is kept even if the record is later renumbered). Drafts are versioned
(``CompilationVersion``: a frozen copy of the entries), and a leader approves one version before
it leaves the archive.

An ``Exhibition`` has sections of exhibits, each an open record with captions in three
languages. Whether a record may be shown is decided when the page is shown
(``selectors.shown_exhibits``), never stored here.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dangan.catalogue.dates import PartialDate


class Compilation(models.Model):
    """编研成果: a compilation made by the archive's editors from the records."""

    class Kind(models.TextChoices):
        TOPIC = "topic", _("Topic compilation")
        CHRONICLE = "chronicle", _("Chronicle of events")
        ORGHISTORY = "orghistory", _("Organisational history")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for approval")
        APPROVED = "approved", _("Approved")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    introduction = models.TextField(_("introduction"), blank=True)
    compiled_by = models.CharField(_("compiled by"), max_length=200, blank=True)
    #: The unit whose history an organisational history tells.
    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    #: The version a leader approved last: what leaves the archive.
    approved_version = models.ForeignKey(
        "CompilationVersion",
        verbose_name=_("approved version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("compilation")
        verbose_name_plural = _("compilations")
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("compilation:detail", args=[self.pk])


class Entry(models.Model):
    """One entry of a compilation, in its place (``position``).

    Topic compilation: ``chapter`` and the record's excerpt or transcription (``text``).
    Chronicle: the date (year, month, day as precise as known) and the event (``text``).
    Organisational history: a period from the date to ``end_*`` of the unit's ``name``,
    ``parent_name``, ``functions`` and ``leaders``.
    """

    compilation = models.ForeignKey(Compilation, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveIntegerField(_("position"))
    #: As precise as known (``catalogue.dates.PartialDate``): a year, a month, a day.
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    chapter = models.CharField(_("chapter"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    note = models.TextField(_("editor's note"), blank=True)
    with_pages = models.BooleanField(_("with page images"), default=False)
    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name in this period"), max_length=200, blank=True)
    parent_name = models.CharField(_("parent body"), max_length=200, blank=True)
    functions = models.TextField(_("functions"), blank=True)
    leaders = models.TextField(_("leaders"), blank=True)
    end_year = models.PositiveSmallIntegerField(_("until year"), null=True, blank=True)
    end_month = models.PositiveSmallIntegerField(_("until month"), null=True, blank=True)
    end_day = models.PositiveSmallIntegerField(_("until day"), null=True, blank=True)

    class Meta:
        verbose_name = _("compilation entry")
        verbose_name_plural = _("compilation entries")
        ordering = ["compilation", "position", "id"]
        indexes = [models.Index(fields=["compilation", "position"], name="entry_position")]

    def __str__(self):
        return f"{self.compilation_id}#{self.position}"

    @property
    def date(self) -> PartialDate | None:
        return PartialDate(self.year, self.month, self.day) if self.year else None

    @property
    def end(self) -> PartialDate | None:
        return PartialDate(self.end_year, self.end_month, self.end_day) if self.end_year else None


class Citation(models.Model):
    """A record an entry cites, remembered by its archival code and description as they were
    when cited (the record itself may change later; the compilation's reader needs the code)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="citations")
    record = models.ForeignKey(
        "catalogue.Record",
        verbose_name=_("record"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    archival_code = models.CharField(_("archival code"), max_length=80)
    title = models.CharField(_("title"), max_length=500)
    date = models.DateField(_("date"), null=True, blank=True)
    responsible = models.CharField(_("responsible party"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        ordering = ["entry", "position", "id"]

    def __str__(self):
        return self.archival_code


class CompilationVersion(models.Model):
    """A frozen copy of a compilation's entries (``content``: its export form), submitted for
    approval; ``approved_by`` a leader."""

    compilation = models.ForeignKey(Compilation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    made_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    remark = models.CharField(_("remark"), max_length=300, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)

    class Meta:
        verbose_name = _("compilation version")
        verbose_name_plural = _("compilation versions")
        ordering = ["compilation", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["compilation", "number"], name="compilation_version_unique"
            )
        ]

    def __str__(self):
        return f"{self.compilation} v{self.number}"


class Exhibition(models.Model):
    """网上展览: curated sections of open records, shown on the public site once a leader
    approved it."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for approval")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Taken down")

    slug = models.SlugField(_("address"), max_length=60, unique=True)
    title_zh_hans = models.CharField(_("title (simplified Chinese)"), max_length=200)
    title_zh_hant = models.CharField(_("title (traditional Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    intro_zh_hans = models.TextField(_("introduction (simplified Chinese)"), blank=True)
    intro_zh_hant = models.TextField(_("introduction (traditional Chinese)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("exhibition")
        verbose_name_plural = _("exhibitions")
        ordering = ["-published_at", "-id"]

    def __str__(self):
        return self.title_zh_hans


class Section(models.Model):
    """One section (单元) of an exhibition."""

    exhibition = models.ForeignKey(Exhibition, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(_("position"), default=0)
    title_zh_hans = models.CharField(_("title (simplified Chinese)"), max_length=200)
    title_zh_hant = models.CharField(_("title (traditional Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    text_zh_hans = models.TextField(_("text (simplified Chinese)"), blank=True)
    text_zh_hant = models.TextField(_("text (traditional Chinese)"), blank=True)
    text_en = models.TextField(_("text (English)"), blank=True)

    class Meta:
        verbose_name = _("exhibition section")
        verbose_name_plural = _("exhibition sections")
        ordering = ["exhibition", "position", "id"]

    def __str__(self):
        return self.title_zh_hans


class Exhibit(models.Model):
    """One record shown in a section, with its captions and, optionally, one of its pages."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="exhibits")
    position = models.PositiveIntegerField(_("position"), default=0)
    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="+"
    )
    archival_code = models.CharField(_("archival code"), max_length=80)
    page = models.ForeignKey(
        "content.Page",
        verbose_name=_("page shown"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    caption_zh_hans = models.TextField(_("caption (simplified Chinese)"), blank=True)
    caption_zh_hant = models.TextField(_("caption (traditional Chinese)"), blank=True)
    caption_en = models.TextField(_("caption (English)"), blank=True)
    #: The persons the record names agreed to be named: their names are not masked.
    consent = models.BooleanField(_("the persons named consented"), default=False)

    class Meta:
        verbose_name = _("exhibit")
        verbose_name_plural = _("exhibits")
        ordering = ["section", "position", "id"]

    def __str__(self):
        return self.archival_code


class ExhibitionVisit(models.Model):
    """Visits of one exhibition on one day (statistics read these; no visitor is recorded)."""

    exhibition = models.ForeignKey(Exhibition, on_delete=models.CASCADE, related_name="visits")
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("visits"), default=0)

    class Meta:
        verbose_name = _("exhibition visits")
        verbose_name_plural = _("exhibition visits")
        constraints = [
            models.UniqueConstraint(fields=["exhibition", "day"], name="exhibition_visit_day")
        ]

    def __str__(self):
        return f"{self.exhibition_id} {self.day}: {self.count}"
