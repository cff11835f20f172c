"""The stacks (库房): rooms, shelf places, boxes, what is in them and how the rooms are kept.

A room holds compact shelving: columns (列), each of sections (节), each of layers (层). One
layer of one section is a ``Shelf``, the place a box stands; its location code reads
``room-column-section-layer`` (``K1-03-02-05``). Boxes (档案盒) carry their own code, printed
as a QR code on the labels, and the records placed in them. Every move of a box is kept.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Protection(models.TextChoices):
    """八防: the eight protections of a storage room, plus magnetism where media are kept."""

    FIRE = "fire", _("Fire")
    THEFT = "theft", _("Theft")
    WATER = "water", _("Water")
    DAMP = "damp", _("Damp")
    PESTS = "pests", _("Pests and rodents")
    HEAT = "heat", _("Heat")
    LIGHT = "light", _("Strong light")
    DUST = "dust", _("Dust")
    MAGNETISM = "magnetism", _("Magnetism (media)")


class Room(models.Model):
    """库房: a storage room with the climate limits it must keep (JGJ 25-2010, configurable)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    keeps_media = models.BooleanField(
        _("keeps magnetic or optical media"),
        default=False,
        help_text=_("Adds protection against magnetism to the checklist."),
    )
    temperature_min = models.DecimalField(
        _("lowest temperature (°C)"), max_digits=4, decimal_places=1, default=Decimal("14")
    )
    temperature_max = models.DecimalField(
        _("highest temperature (°C)"), max_digits=4, decimal_places=1, default=Decimal("24")
    )
    humidity_min = models.DecimalField(
        _("lowest relative humidity (%)"), max_digits=4, decimal_places=1, default=Decimal("45")
    )
    humidity_max = models.DecimalField(
        _("highest relative humidity (%)"), max_digits=4, decimal_places=1, default=Decimal("60")
    )
    temperature_swing = models.DecimalField(
        _("daily temperature swing (± °C)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("2"),
        help_text=_("Within one day the readings may lie this far either side of their middle."),
    )
    humidity_swing = models.DecimalField(
        _("daily humidity swing (± %)"), max_digits=4, decimal_places=1, default=Decimal("5")
    )

    class Meta:
        verbose_name = _("storage room")
        verbose_name_plural = _("storage rooms")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def protections(self) -> list[Protection]:
        """The checklist of this room's inspections."""
        return [p for p in Protection if p != Protection.MAGNETISM or self.keeps_media]


class Shelf(models.Model):
    """One layer (层) of one section (节) of one column (列) of shelving: where boxes stand."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="shelves")
    column = models.PositiveSmallIntegerField(_("column"))
    section = models.PositiveSmallIntegerField(_("section"))
    layer = models.PositiveSmallIntegerField(_("layer"))

    class Meta:
        verbose_name = _("shelf place")
        verbose_name_plural = _("shelf places")
        ordering = ["room", "column", "section", "layer"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "column", "section", "layer"], name="shelf_place_unique"
            )
        ]

    def __str__(self):
        return self.code

    @property
    def code(self) -> str:
        """The location code: room, column, section, layer."""
        return f"{self.room.code}-{self.column:02d}-{self.section:02d}-{self.layer:02d}"


class Box(models.Model):
    """档案盒: a box of records, 310×220 mm with a 20–50 mm spine, and its box note (备考表)."""

    class Spine(models.IntegerChoices):
        MM20 = 20, "20 mm"
        MM30 = 30, "30 mm"
        MM40 = 40, "40 mm"
        MM50 = 50, "50 mm"

    code = models.CharField(_("box code"), max_length=80, unique=True)
    fonds = models.ForeignKey("catalogue.Fonds", verbose_name=_("fonds"), on_delete=models.PROTECT)
    category = models.ForeignKey(
        "catalogue.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    retention = models.CharField(_("retention"), max_length=4, blank=True)
    spine = models.PositiveSmallIntegerField(_("spine"), choices=Spine.choices, default=30)
    shelf = models.ForeignKey(
        Shelf,
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="boxes",
    )
    # 备考表 (DA/T 22): what the archivist notes about the box's contents, and who arranged and
    # checked it when.
    note = models.TextField(_("notes on the contents"), blank=True)
    arranged_by = models.CharField(_("arranged by"), max_length=50, blank=True)
    arranged_on = models.DateField(_("arranged on"), null=True, blank=True)
    checked_by = models.CharField(_("checked by"), max_length=50, blank=True)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("box")
        verbose_name_plural = _("boxes")
        ordering = ["code"]

    def __str__(self):
        return self.code


class BoxMove(models.Model):
    """One move of a box from one place to another (or onto / off the shelves)."""

    box = models.ForeignKey(Box, on_delete=models.CASCADE, related_name="moves")
    from_shelf = models.ForeignKey(
        Shelf, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_shelf = models.ForeignKey(
        Shelf, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("box move")
        verbose_name_plural = _("box moves")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.box} → {self.to_shelf or '—'}"


class Placement(models.Model):
    """A record (件 or 卷) placed in a box; a record is in one box at most."""

    record = models.OneToOneField(
        "catalogue.Record", on_delete=models.CASCADE, related_name="placement"
    )
    box = models.ForeignKey(Box, on_delete=models.PROTECT, related_name="placements")
    placed_at = models.DateTimeField(_("placed"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")

    def __str__(self):
        return f"{self.record_id} → {self.box}"


class Inventory(models.Model):
    """盘点: a count of one room's boxes; boxes are marked found by scanning their code."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="inventories")
    started_at = models.DateTimeField(_("started"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    #: The boxes on the room's shelves when the count began: what it expects to find.
    expected = models.JSONField(default=list)

    class Meta:
        verbose_name = _("inventory")
        verbose_name_plural = _("inventories")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.room.code} {self.started_at:%Y-%m-%d}"


class InventoryScan(models.Model):
    """One code scanned during an inventory: a box of the room, a box of elsewhere, or unknown."""

    inventory = models.ForeignKey(Inventory, on_delete=models.CASCADE, related_name="scans")
    code = models.CharField(_("code scanned"), max_length=80)
    box = models.ForeignKey(Box, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inventory", "code"], name="inventory_code_once")
        ]

    def __str__(self):
        return self.code


class Inspection(models.Model):
    """An inspection of a room against its checklist of protections (八防检查)."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="inspections")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: protection → {"ok": bool, "note": str}
    results = models.JSONField(_("results"), default=dict)
    remarks = models.TextField(_("remarks"), blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.room.code} {self.at:%Y-%m-%d}"

    @property
    def failed(self) -> list[str]:
        return [key for key, value in self.results.items() if not value.get("ok")]


class Reading(models.Model):
    """A temperature and humidity reading of a room, typed in, imported or sent by a sensor."""

    class Source(models.TextChoices):
        FORM = "form", _("Form")
        CSV = "csv", _("CSV import")
        SENSOR = "sensor", _("Sensor")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="readings")
    at = models.DateTimeField(_("time"))
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    humidity = models.DecimalField(
        _("relative humidity (%)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["room", "at"]
        constraints = [models.UniqueConstraint(fields=["room", "at"], name="reading_once")]

    def __str__(self):
        return f"{self.room.code} {self.at:%Y-%m-%d %H:%M} {self.temperature} °C {self.humidity} %"


class Alert(models.Model):
    """A room out of its limits: one alert per excursion, however many readings it lasted.

    An excursion begins with the first reading out of range and ends with the next reading
    back in range (``ended_at``); a daily swing too wide gives one alert per day. The alert
    stays open until someone closes it saying how it was handled.
    """

    class Kind(models.TextChoices):
        TEMPERATURE = "temperature", _("Temperature")
        HUMIDITY = "humidity", _("Humidity")
        TEMPERATURE_SWING = "temperature_swing", _("Daily temperature swing")
        HUMIDITY_SWING = "humidity_swing", _("Daily humidity swing")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    day = models.DateField(_("day"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    last_at = models.DateTimeField(_("last reading out of range"))
    ended_at = models.DateTimeField(_("back in range"), null=True, blank=True)
    worst = models.DecimalField(_("worst value"), max_digits=5, decimal_places=1)
    readings = models.PositiveIntegerField(_("readings out of range"), default=1)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handling = models.TextField(_("how it was handled"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.room.code} {self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"
