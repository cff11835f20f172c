"""The catalogue: fonds, categories with their metadata schemas, records, archival codes."""

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dangan.accounts.models import Secrecy

DEFAULT_CODE_TEMPLATE = "{fonds}-{category}·{year}-{retention}-{org}-{seq:4}"


class Retention(models.TextChoices):
    """保管期限: permanent, or a number of years counted from 1 January after the record's year."""

    PERMANENT = "Y", _("Permanent")
    D10 = "D10", _("10 years")
    D30 = "D30", _("30 years")
    D50 = "D50", _("50 years")
    D100 = "D100", _("100 years")


class Openness(models.TextChoices):
    """开放标识: gates what the public and citizens may ever see."""

    OPEN = "open", _("Open")
    CONTROLLED = "controlled", _("Controlled")
    DELAYED = "delayed", _("Delayed opening")
    UNREVIEWED = "unreviewed", _("Not yet reviewed")


class PublicAttribute(models.TextChoices):
    """公开属性."""

    ACTIVE = "active", _("Published actively")
    ON_REQUEST = "on_request", _("Published on request")
    NOT_PUBLIC = "not_public", _("Not published")


class Carrier(models.TextChoices):
    """载体: what the record is kept on. The field stays free text (registers bring their own
    words); these are the values Dangan writes and shows by their label."""

    PAPER = "paper", _("Paper")
    ELECTRONIC = "electronic", _("Electronic")
    PHOTO = "photo", _("Photograph")
    AUDIOVISUAL = "audiovisual", _("Audio and video")
    MICROFILM = "microfilm", _("Microfilm")
    OBJECT = "object", pgettext_lazy("carrier", "Object")


class Level(models.TextChoices):
    """著录层级 of a record: an item (件) or a volume (卷, for person files)."""

    ITEM = "item", _("Item")
    VOLUME = "volume", _("Volume")


class Fonds(models.Model):
    """全宗: all records of one creating body."""

    code = models.CharField(_("fonds number"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("fonds")
        verbose_name_plural = _("fonds")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Category(models.Model):
    """门类: one kind of record of the classification scheme (标准体系表), with its own fields.

    Categories form a tree (``parent``); the code is used in archival codes and on the
    command line. ``code_template`` decides how archival codes are written (DA/T 22 by default).
    """

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    class_code = models.CharField(
        _("DA/T 13 category code"),
        max_length=4,
        default="ZY",
        help_text=_("WS documents, RS personnel, ZY specialised (business) records, …"),
    )
    level = models.CharField(
        _("filing level"), max_length=8, choices=Level.choices, default=Level.ITEM
    )
    default_retention = models.CharField(
        _("default retention"), max_length=4, choices=Retention.choices, default=Retention.D100
    )
    code_template = models.CharField(
        _("archival code template"),
        max_length=100,
        default=DEFAULT_CODE_TEMPLATE,
        help_text=_(
            "Tokens: {fonds} {category} {class} {year} {retention} {org} {seq:N}. "
            "An empty token drops the separator before it."
        ),
    )
    title_template = models.CharField(
        _("supplied title template"),
        max_length=200,
        blank=True,
        help_text=_(
            "Title written for a record whose source gives none, e.g. "
            "“{name} unemployment custody file”; archivists' titles go in [ ]."
        ),
    )
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "code"]

    def __str__(self):
        return self.name

    def clean(self):
        from .archival_code import template_problems

        problems = template_problems(self.code_template)
        if problems:
            raise ValidationError({"code_template": problems})


class FieldDefinition(models.Model):
    """One metadata field of a category's schema, editable by an administrator without code."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        INTEGER = "integer", _("Whole number")
        DECIMAL = "decimal", _("Amount")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        ID_NUMBER = "id_number", _("National ID number")
        BOOLEAN = "boolean", _("Yes / no")

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=60)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("allowed values"), default=list, blank=True)
    pattern = models.CharField(_("pattern (regular expression)"), max_length=200, blank=True)
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    aliases = models.JSONField(
        _("column names in old registers"),
        default=list,
        blank=True,
        help_text=_("Header names that the register import maps to this field."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("metadata field")
        verbose_name_plural = _("metadata fields")
        ordering = ["category", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "key"], name="field_key_unique_per_category"
            )
        ]

    def __str__(self):
        return f"{self.category.code}.{self.key}"

    def clean(self):
        if self.kind == self.Kind.CHOICE and not self.choices:
            raise ValidationError({"choices": _("A choice field needs its allowed values.")})
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValidationError(
                    {"pattern": _("Not a valid pattern: %(error)s") % {"error": exc}}
                ) from None


class RetentionRule(models.Model):
    """One line of the retention schedule (保管期限表): a kind of record and how long it is kept."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="retention_rules")
    record_type = models.CharField(_("kind of record"), max_length=100)
    retention = models.CharField(_("retention"), max_length=4, choices=Retention.choices)
    basis = models.CharField(_("basis"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention schedule")
        ordering = ["category", "record_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "record_type"], name="retention_rule_unique"
            )
        ]

    def __str__(self):
        return f"{self.category}: {self.record_type} → {self.retention}"


class Record(models.Model):
    """A record at item (件) or volume (卷) level, described to DA/T 18."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FILED = "filed", _("Filed")
        #: 已销毁: a tombstone kept after lawful destruction (dangan.appraisal); no content.
        #: (Eight characters at most: the stats app's holdings table copies the state.)
        DESTROYED = "purged", _("Destroyed")

    # No index of their own: the composite indexes below begin with them. Every index is paid
    # for at each of a register import's hundred thousand inserts.
    fonds = models.ForeignKey(
        Fonds, verbose_name=_("fonds"), on_delete=models.PROTECT, db_index=False
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, db_index=False
    )
    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT
    )
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, default=Level.ITEM)
    volume = models.ForeignKey(
        "self",
        verbose_name=_("volume"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
    )
    #: 卷内序号: the item's place in its volume. Not editable, so not in the snapshot the ledger
    #: digests (records described before it existed keep their digests); the order is in the
    #: volume's audit events.
    volume_position = models.PositiveIntegerField(
        _("number in volume"), null=True, blank=True, editable=False
    )
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.DRAFT)
    archival_code = models.CharField(
        _("archival code"), max_length=80, null=True, blank=True, unique=True
    )
    code_prefix = models.CharField(max_length=80, blank=True, editable=False)
    sequence = models.PositiveIntegerField(_("item number"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    retention = models.CharField(_("retention"), max_length=4, choices=Retention.choices)
    org_code = models.CharField(_("organisation/issue code"), max_length=16, blank=True)
    title = models.CharField(_("title"), max_length=500)
    date = models.DateField(_("date"), null=True, blank=True)
    responsible = models.CharField(_("responsible party"), max_length=200, blank=True)
    doc_number = models.CharField(_("document number"), max_length=100, blank=True)
    secrecy = models.PositiveSmallIntegerField(
        _("secrecy"), choices=Secrecy.choices, default=Secrecy.INTERNAL
    )
    secrecy_term = models.CharField(_("secrecy term"), max_length=20, blank=True)
    openness = models.CharField(
        _("openness"), max_length=12, choices=Openness.choices, default=Openness.UNREVIEWED
    )
    public_attribute = models.CharField(
        _("public attribute"),
        max_length=12,
        choices=PublicAttribute.choices,
        default=PublicAttribute.NOT_PUBLIC,
    )
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=20, default="paper", blank=True)
    legacy_number = models.CharField(
        _("legacy archive number"), max_length=80, blank=True, db_index=True
    )
    box_number = models.CharField(_("box number"), max_length=40, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    metadata = models.JSONField(_("category fields"), default=dict, blank=True)
    persons = models.ManyToManyField(
        "people.Person", through="people.RecordPerson", related_name="records", blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    #: 归档时间: when the record was filed (its archival code given). Not editable, so not in
    #: the snapshot the ledger digests; the ledger's ``record.filed`` entry holds the same moment.
    filed_at = models.DateTimeField(
        _("filed"), null=True, blank=True, editable=False, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("record")
        verbose_name_plural = _("records")
        indexes = [
            models.Index(fields=["category", "year", "id"], name="record_cat_year"),
            models.Index(fields=["fonds", "category", "year"], name="record_fonds_cat_year"),
            models.Index(fields=["year", "id"], name="record_year"),
            models.Index(fields=["category", "legacy_number"], name="record_cat_legacy"),
            models.Index(fields=["retention", "year"], name="record_retention"),
            # The list's default order is newest first: each single filter needs its (x, id).
            models.Index(fields=["retention", "id"], name="record_retention_id"),
            models.Index(fields=["fonds", "id"], name="record_fonds_id"),
            models.Index(fields=["category", "id"], name="record_category_id"),
            models.Index(fields=["openness", "id"], name="record_openness"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["code_prefix", "sequence"],
                condition=models.Q(sequence__isnull=False),
                name="record_sequence_unique_per_prefix",
            ),
        ]

    def __str__(self):
        return f"{self.archival_code or self.legacy_number or '—'} {self.title}"

    @property
    def carrier_label(self) -> str:
        """The carrier in the reader's language (a register's own word as it was written)."""
        labels = dict(Carrier.choices)
        return str(labels.get(self.carrier, self.carrier))

    @property
    def retention_expires(self) -> datetime.date | None:
        """The day retention ends: 1 January after the record's year, plus the period."""
        if self.retention == Retention.PERMANENT:
            return None
        years = int(self.retention[1:])
        return datetime.date(self.year + 1 + years, 1, 1)


class VolumeNote(models.Model):
    """备考表: the note at the back of a volume — what the archivist says of its items, who
    arranged it (立卷人) and who checked it (检查人), and when."""

    volume = models.OneToOneField(
        Record, verbose_name=_("volume"), on_delete=models.CASCADE, related_name="note"
    )
    notes = models.TextField(_("notes on the items"), blank=True)
    compiled_by = models.CharField(_("arranged by"), max_length=60, blank=True)
    compiled_on = models.DateField(_("arranged on"), null=True, blank=True)
    checked_by = models.CharField(_("checked by"), max_length=60, blank=True)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)

    class Meta:
        verbose_name = _("volume note")
        verbose_name_plural = _("volume notes")

    def __str__(self):
        return str(self.volume)


class RecordRelation(models.Model):
    """关联: one record pointing to another — a reply to its request, an attachment to its main
    document, a correction to what it corrects, or a plain "see also". Shown on both records,
    each in its own words (``Kind.REVERSE``)."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Replies to")
        ATTACHMENT = "attachment", _("Is an attachment of")
        SUPERSEDES = "supersedes", _("Corrects")
        SEE_ALSO = "see_also", _("See also")

    #: How the relation reads from the record pointed to.
    REVERSE = {
        Kind.REPLY: _("Replied to by"),
        Kind.ATTACHMENT: _("Has the attachment"),
        Kind.SUPERSEDES: _("Corrected by"),
        Kind.SEE_ALSO: _("See also"),
    }

    source = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.CASCADE, related_name="relations_out"
    )
    target = models.ForeignKey(
        Record,
        verbose_name=_("related record"),
        on_delete=models.CASCADE,
        related_name="relations_in",
    )
    kind = models.CharField(_("relation"), max_length=12, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("linked"), auto_now_add=True)

    class Meta:
        verbose_name = _("relation between records")
        verbose_name_plural = _("relations between records")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="record_relation_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="record_relation_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.source_id} {self.kind} {self.target_id}"


class CodeCounter(models.Model):
    """The last item number given within one archival code prefix (e.g. ``Z109-WS·2011-Y-BGS``).

    Incremented inside the filing transaction, so numbers are unique and, because a failed
    filing rolls the increment back too, gap-free.
    """

    prefix = models.CharField(max_length=80, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.prefix} #{self.last}"
