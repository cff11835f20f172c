"""Kept reports of the four-property checks (四性检测, DA/T 70-2018)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Verdict(models.TextChoices):
    PASS = "pass", _("Passed")
    FAIL = "fail", _("Failed")
    SKIPPED = "skipped", _("Not checked")


class Property(models.TextChoices):
    """The four properties of DA/T 70, in the standard's order."""

    AUTHENTICITY = "authenticity", _("Authenticity")
    INTEGRITY = "integrity", _("Integrity")
    USABILITY = "usability", _("Usability")
    SECURITY = "security", _("Security")


class CheckReport(models.Model):
    """One run of the checks over one subject (a hand-over list, a package), kept for good.

    ``subject_type``/``subject_id`` name what was checked without this app knowing its model,
    so the same engine serves hand-over, filing and preservation.
    """

    class Stage(models.TextChoices):
        FILING = "filing", _("Filing")
        HANDOVER = "handover", _("Hand-over and receipt")
        PRESERVATION = "preservation", _("Long-term preservation")

    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    subject_type = models.CharField(_("what was checked"), max_length=64)
    subject_id = models.CharField(_("identifier"), max_length=64)
    subject_repr = models.CharField(_("subject"), max_length=300)
    created_at = models.DateTimeField(_("checked"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    passed = models.BooleanField(_("passed"))
    items = models.PositiveIntegerField(_("items"), default=0)
    files = models.PositiveIntegerField(_("files"), default=0)
    bytes = models.PositiveBigIntegerField(_("bytes"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("check report")
        verbose_name_plural = _("check reports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="report_subject")]

    def __str__(self):
        return f"{self.subject_repr} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def failed_ids(self) -> list[str]:
        """The ids of the checks that failed (``GD-1.1``, …), in the report's order."""
        return [r.check_id for r in self.results.all() if r.verdict == Verdict.FAIL]


class CheckResult(models.Model):
    """One check of a report: its DA/T 70 id, the verdict and the evidence behind it."""

    report = models.ForeignKey(CheckReport, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    check_id = models.CharField(_("check"), max_length=16)
    property = models.CharField(_("property"), max_length=16, choices=Property.choices)
    name = models.CharField(_("name"), max_length=200)
    verdict = models.CharField(_("verdict"), max_length=8, choices=Verdict.choices)
    summary = models.CharField(_("finding"), max_length=500)
    #: Lines naming each file or item that failed (or what was looked at).
    evidence = models.JSONField(_("evidence"), default=list, blank=True)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ["report", "position"]

    def __str__(self):
        return f"{self.check_id} {self.verdict}"


class LedgerEntry(models.Model):
    """账本条目: one event that matters for authenticity, chained to the one before it.

    ``hash`` covers every column (see ``ledger.entry_line``) and the previous entry's hash, so an
    entry edited, removed or inserted behind the application's back breaks the chain. Rows are
    never updated or deleted by the application.
    """

    seq = models.PositiveBigIntegerField(_("number"), unique=True)
    at = models.DateTimeField(_("time"))
    #: The local calendar day of ``at``: the entries of one day make one Merkle root.
    day = models.DateField(_("day"), db_index=True)
    kind = models.CharField(_("kind"), max_length=32)
    subject = models.CharField(_("subject"), max_length=200)
    digest = models.CharField(_("digest"), max_length=200, blank=True)
    actor = models.CharField(_("who"), max_length=150, blank=True)
    #: Canonical JSON (sorted keys, no spaces): stored as text so it hashes as it was written.
    details = models.TextField(_("details"), blank=True)
    previous = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject", "seq"], name="ledger_subject")]

    def __str__(self):
        return f"#{self.seq} {self.kind} {self.subject}"


class LedgerHead(models.Model):
    """The chain's last entry (number and hash), one row, locked while entries are appended."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"#{self.seq} {self.hash}"


class DayRoot(models.Model):
    """日根: the Merkle root of one day's ledger entries, signed, kept once the day is sealed.

    A copy goes to the witness folder (``DANGAN_LEDGER_WITNESS_DIR``) when one is set; ``verify``
    compares the recomputed root with this row and with the witnessed copy, which is what catches
    a chain rewritten and re-hashed from some entry on.
    """

    day = models.DateField(_("day"), unique=True)
    first_seq = models.PositiveBigIntegerField(_("first entry"))
    last_seq = models.PositiveBigIntegerField(_("last entry"))
    count = models.PositiveIntegerField(_("entries"))
    root = models.CharField(_("Merkle root"), max_length=64)
    #: The hash of the day's last entry: the root and the chain vouch for each other.
    last_hash = models.CharField(_("last entry hash"), max_length=64)
    algorithm = models.CharField(_("signature algorithm"), max_length=16)
    public_key = models.CharField(_("public key"), max_length=200)
    signature = models.CharField(_("signature"), max_length=300)
    sealed_at = models.DateTimeField(_("sealed"))

    class Meta:
        verbose_name = _("day root")
        verbose_name_plural = _("day roots")
        ordering = ["-day"]

    def __str__(self):
        return f"{self.day} {self.root[:16]}…"


class VerifyRun(models.Model):
    """One run of ``dangan verify``, kept so that the integrity page shows the last results."""

    started_at = models.DateTimeField(_("started"))
    seconds = models.FloatField(_("seconds"), default=0)
    passed = models.BooleanField(_("passed"))
    #: Counts of what was looked at: entries, records, blobs, bytes, days.
    counts = models.JSONField(_("checked"), default=dict)
    #: One dict per finding: {"check", "subject", "message"}.
    problems = models.JSONField(_("problems"), default=list)
    created_by = models.CharField(_("run by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.passed else 'FAIL'}"


# --- Fixity audits, storage alerts and backups (fixity.py, storage.py, alerts.py, backups/) ----


class BlobFixity(models.Model):
    """定期检测 (fixity audit) of one blob: when its bytes were last read back, and what was found.

    One row per blob, rewritten at each reading; the history of failures lives in the alerts
    and the audit trail, the history of runs in ``FixityRun``.
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("Intact")
        CHANGED = "changed", _("Changed")
        MISSING = "missing", _("Missing")
        UNREADABLE = "unreadable", _("Unreadable")
        REMOVED = "removed", _("Removed with its record")

    blob = models.OneToOneField(
        "content.Blob", primary_key=True, on_delete=models.CASCADE, related_name="fixity"
    )
    checked_at = models.DateTimeField(_("last read"), db_index=True)
    outcome = models.CharField(_("result"), max_length=12, choices=Outcome.choices)
    finding = models.CharField(_("finding"), max_length=300, blank=True)
    last_ok_at = models.DateTimeField(_("last found intact"), null=True, blank=True)

    class Meta:
        verbose_name = _("blob fixity")
        verbose_name_plural = _("blob fixity")

    def __str__(self):
        return f"{self.blob_id} {self.outcome} {self.checked_at:%Y-%m-%d}"


class FixityRun(models.Model):
    """One round of the fixity audit (the worker's rolling schedule, or ``dangan fixity``)."""

    started_at = models.DateTimeField(_("started"))
    seconds = models.FloatField(_("seconds"), default=0)
    trigger = models.CharField(_("run by"), max_length=20)
    blobs = models.PositiveIntegerField(_("blobs read"), default=0)
    bytes = models.PositiveBigIntegerField(_("bytes read"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    #: None when the store was not listed in this run.
    orphans = models.PositiveIntegerField(_("orphan blobs"), null=True, blank=True)
    mb_per_s_cap = models.FloatField(_("bandwidth cap (MB/s)"), default=0)
    #: Free space and readability of each place the archive keeps its data.
    storage = models.JSONField(_("storage"), default=list, blank=True)

    class Meta:
        verbose_name = _("fixity run")
        verbose_name_plural = _("fixity runs")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.blobs} blobs, {self.failures} failed"


class StorageAlert(models.Model):
    """存储告警: something wrong with the kept bytes or their disks, until someone handles it.

    The same problem seen again (the same ``kind`` and ``subject`` while the alert is not
    resolved) counts up ``times`` instead of raising a second alert.
    """

    class Kind(models.TextChoices):
        BLOB_CHANGED = "blob_changed", _("Blob changed")
        BLOB_MISSING = "blob_missing", _("Blob missing")
        BLOB_UNREADABLE = "blob_unreadable", _("Blob unreadable")
        ORPHANS = "orphans", _("Blobs in the store unknown to the catalogue")
        LOW_SPACE = "low_space", _("Low free space")
        STORE_UNREADABLE = "store_unreadable", _("Storage unreadable")
        BACKUP_FAILED = "backup_failed", _("Backup failed or unreadable")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.CharField(_("message"), max_length=500)
    details = models.JSONField(_("details"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised"))
    last_seen_at = models.DateTimeField(_("last seen"))
    times = models.PositiveIntegerField(_("times seen"), default=1)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    mailed_at = models.DateTimeField(_("mailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("storage alert")
        verbose_name_plural = _("storage alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["kind", "subject"], name="alert_subject")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"


class AlertAction(models.Model):
    """How an alert was handled: who did what, when, and their note (处理记录)."""

    class Action(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", _("Acknowledged")
        RESOLVE = "resolve", _("Resolved")
        REOPEN = "reopen", _("Reopened")
        NOTE = "note", _("Note")

    alert = models.ForeignKey(StorageAlert, on_delete=models.CASCADE, related_name="actions")
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by_name = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("alert handling")
        verbose_name_plural = _("alert handling")
        ordering = ["alert", "at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.by_name} {self.action}"


class BackupRecord(models.Model):
    """备份介质登记 (backup-media register): one backup, the medium it is on and where that is kept.

    Written by ``dangan backup``; ``verified_at`` is set each time the backup is read back and
    found whole (right after writing, and by ``dangan backup --verify``).
    """

    snapshot = models.CharField(_("snapshot"), max_length=40)
    destination = models.CharField(_("destination"), max_length=500)
    medium = models.CharField(_("medium"), max_length=100)
    location = models.CharField(_("kept at"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("date"))
    seconds = models.FloatField(_("seconds"), default=0)
    #: Bytes written by this backup (database, data files, new blobs).
    size = models.PositiveBigIntegerField(_("size written"), default=0)
    #: Bytes the snapshot stands for (database, data files, every blob it names).
    total_size = models.PositiveBigIntegerField(_("snapshot size"), default=0)
    database_engine = models.CharField(_("database"), max_length=20)
    records = models.PositiveIntegerField(_("records"), default=0)
    blobs = models.PositiveIntegerField(_("blobs"), default=0)
    blobs_copied = models.PositiveIntegerField(_("blobs copied"), default=0)
    manifest_sha256 = models.CharField(_("manifest SHA-256"), max_length=64)
    complete = models.BooleanField(_("complete"), default=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    operator = models.CharField(_("who"), max_length=150)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_ok = models.BooleanField(_("verified whole"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("backup medium")
        verbose_name_plural = _("backup-media register")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.snapshot} → {self.medium} ({self.location or self.destination})"
