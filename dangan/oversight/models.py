"""业务监督指导: how the county steers the units and towns that keep records before they reach it.

Four parts: the yearly holdings survey (摸清家底), the yearly inspection against an editable
checklist (规范化管理验收) with its findings, the custody hand-over between keepers (交接), and
the people who keep each unit's files (兼职/专职档案员) with their training.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# --- Holdings survey (摸清家底) -------------------------------------------------------------


class Survey(models.Model):
    """摸清家底: the county asks every business unit and town, once a year, what it holds."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("name of the survey"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    due_on = models.DateField(_("answers due"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("holdings survey")
        verbose_name_plural = _("holdings surveys")
        ordering = ["-year"]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class SurveyAnswer(models.Model):
    """One unit's answer to a survey: what it still keeps itself and what has moved into Dangan.

    "Before" is what the unit keeps in its own room; "after" is what it has handed over to the
    archive (as the unit counts it), set beside what Dangan actually holds for the unit.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answers")
    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    kinds = models.TextField(_("kinds of records"))
    files_at_unit = models.PositiveIntegerField(_("files kept at the unit"), default=0)
    metres_at_unit = models.DecimalField(
        _("shelf metres kept at the unit"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    files_moved = models.PositiveIntegerField(_("files already handed over to Dangan"), default=0)
    year_from = models.PositiveSmallIntegerField(_("earliest year"), null=True, blank=True)
    year_to = models.PositiveSmallIntegerField(_("latest year"), null=True, blank=True)
    #: The protections (``stacks.Protection`` values) the unit's own room meets.
    protections = models.JSONField(_("protections met"), default=list, blank=True)
    digitised_percent = models.PositiveSmallIntegerField(
        _("share digitised (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    remarks = models.TextField(_("remarks"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), auto_now=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["survey", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "unit"], name="survey_answer_once_per_unit")
        ]

    def __str__(self):
        return f"{self.survey.year} {self.unit}"


# --- Yearly inspection (规范化管理验收) --------------------------------------------------


class Fact(models.TextChoices):
    """What Dangan knows about a unit without asking (``selectors.inspection_facts``)."""

    OVERDUE_HANDOVERS = "overdue_handovers", _("Hand-over lists not sent in time")
    RETURNED_ITEMS = "returned_items", _("Items returned by the archive")
    MISSING_PAGES = "missing_pages", _("Records with missing pages")
    ROOM_ALERTS = "room_alerts", _("Room out of its limits (alerts)")
    NAMED_ARCHIVIST = "named_archivist", _("Named archivist")
    LATE_FILING = "late_filing", _("Records not filed within the deadline")


class ChecklistItem(models.Model):
    """One line of the inspection checklist; the county edits the list and its weights.

    ``fact`` ties an item to what Dangan already knows, so the form shows it and proposes a score.
    """

    title = models.CharField(_("item to check"), max_length=200)
    guidance = models.TextField(_("what the inspector looks at"), blank=True)
    weight = models.PositiveSmallIntegerField(
        _("weight (points)"), default=10, validators=[MinValueValidator(1)]
    )
    fact = models.CharField(
        _("fact from the data"), max_length=24, choices=Fact.choices, blank=True
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("inspection checklist")
        ordering = ["position", "id"]

    def __str__(self):
        return self.title


class Inspection(models.Model):
    """规范化管理验收: the county's inspection of one unit in one year, scored on the checklist."""

    class State(models.TextChoices):
        OPEN = "open", _("Being inspected")
        DONE = "done", _("Concluded")

    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    inspected_on = models.DateField(_("inspected on"))
    inspectors = models.CharField(_("inspectors"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    #: The facts as Dangan knew them when the inspection began (``inspection_facts``).
    facts = models.JSONField(_("facts from the data"), default=dict, blank=True)
    summary = models.TextField(_("conclusions"), blank=True)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=1, default=Decimal("0"))
    max_score = models.DecimalField(
        _("highest score"), max_digits=6, decimal_places=1, default=Decimal("0")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("inspection of a unit")
        verbose_name_plural = _("inspections of units")
        ordering = ["-year", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="inspection_once_a_year")
        ]

    def __str__(self):
        return f"{self.year} {self.unit}"

    @property
    def percent(self) -> Decimal:
        if not self.max_score:
            return Decimal("0")
        return (self.score * 100 / self.max_score).quantize(Decimal("0.1"))


class InspectionScore(models.Model):
    """The points one checklist item earned in one inspection (a copy of its title and weight,
    so that editing the checklist later leaves past reports as they were)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(
        ChecklistItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("item to check"), max_length=200)
    weight = models.PositiveSmallIntegerField(_("weight (points)"))
    fact = models.CharField(max_length=24, blank=True)
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=1)
    note = models.TextField(_("note"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["inspection", "position", "id"]

    def __str__(self):
        return f"{self.title}: {self.points}/{self.weight}"


class Finding(models.Model):
    """A shortcoming found in an inspection, with the date by which it is to be put right; it
    stays open until the county closes it saying how it was fixed."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    text = models.TextField(_("what was found"))
    due_on = models.DateField(_("to be fixed by"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(_("how it was fixed"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["inspection", "id"]

    def __str__(self):
        return self.text[:60]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class FindingPhoto(models.Model):
    """A photo taken for a finding, kept in the content store."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="photos")
    blob = models.ForeignKey("content.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["finding", "id"]

    def __str__(self):
        return self.filename


# --- People who keep the files ------------------------------------------------------------


class Keeper(models.Model):
    """档案员: a person a unit names to keep its files, full- or part-time."""

    class Employment(models.TextChoices):
        FULL = "full", _("Full-time")
        PART = "part", _("Part-time")

    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=50)
    employment = models.CharField(
        _("employment"), max_length=4, choices=Employment.choices, default=Employment.PART
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    since = models.DateField(_("named on"))
    until = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("keeper of files")
        verbose_name_plural = _("keepers of files")
        ordering = ["unit__code", "-since", "id"]

    def __str__(self):
        return self.name


class Qualification(models.Model):
    """A keeper's training course, assessment or certificate."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Training")
        ASSESSMENT = "assessment", _("Assessment")
        CERTIFICATE = "certificate", _("Certificate")

    keeper = models.ForeignKey(Keeper, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("course or certificate"), max_length=200)
    on = models.DateField(_("date"))
    result = models.CharField(_("result"), max_length=100, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("training or certificate")
        verbose_name_plural = _("training and certificates")
        ordering = ["keeper", "-on", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"


class UnitRoom(models.Model):
    """Which storage rooms (``stacks.Room``) a unit keeps its papers in, so that a room's alerts
    count in the unit's inspection."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("stacks.Room", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("room of a unit")
        verbose_name_plural = _("rooms of units")
        constraints = [models.UniqueConstraint(fields=["unit", "room"], name="unit_room_once")]

    def __str__(self):
        return f"{self.unit} · {self.room}"


# --- Custody hand-over between keepers (交接) ----------------------------------------------


class CustodyHandover(models.Model):
    """交接: the outgoing keeper hands a unit's files to the incoming one before a witness.

    The list is drawn up from the data, checked item by item and signed by all three; the
    outgoing keeper's rights (grants) pass to the incoming keeper in the transaction of the last
    signature. Until then nothing moves.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Being checked")
        SIGNED = "signed", _("Signed")

    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    outgoing = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("outgoing keeper"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    incoming = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("incoming keeper"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("witness"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("drawn up"), auto_now_add=True)
    signed_at = models.DateTimeField(_("signed by all"), null=True, blank=True)
    #: The grants that moved, as they were (id, fonds, category, unit, max_secrecy).
    moved_grants = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("custody hand-over")
        verbose_name_plural = _("custody hand-overs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.unit}: {self.outgoing} → {self.incoming}"


class CustodyItem(models.Model):
    """One line of a custody hand-over list: a scope of records, a box, a key, an open finding."""

    class Kind(models.TextChoices):
        RECORDS = "records", _("Records")
        BOX = "box", _("Box")
        KEY = "key", _("Key or other item")
        FINDING = "finding", _("Open finding")
        REQUEST = "request", _("Open request")
        LOAN = "loan", _("Paper files lent out")

    handover = models.ForeignKey(CustodyHandover, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    description = models.CharField(_("what is handed over"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    #: What the line stands for: ``grant:<id>``, ``box:<id>``, ``finding:<id>`` or empty.
    ref = models.CharField(max_length=40, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["handover", "position", "id"]

    def __str__(self):
        return self.description


class CustodySignature(models.Model):
    """One party's signature: they checked every line and confirmed with their password or a
    second-factor code."""

    class Party(models.TextChoices):
        OUTGOING = "outgoing", _("Outgoing keeper")
        INCOMING = "incoming", _("Incoming keeper")
        WITNESS = "witness", _("Witness")

    handover = models.ForeignKey(
        CustodyHandover, on_delete=models.CASCADE, related_name="signatures"
    )
    party = models.CharField(_("as"), max_length=8, choices=Party.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("confirmed with"), max_length=10)
    checked_items = models.JSONField(default=list)
    remarks = models.TextField(_("remarks"), blank=True)
    signed_at = models.DateTimeField(_("signed"), auto_now_add=True)

    class Meta:
        ordering = ["handover", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["handover", "party"], name="custody_party_signs_once")
        ]

    def __str__(self):
        return f"{self.get_party_display()}: {self.user}"
