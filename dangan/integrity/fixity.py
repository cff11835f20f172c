"""定期检测 (fixity audits): every blob read back and re-hashed within a set period.

The worker runs a *round* every ``DANGAN_FIXITY_ROUND_MINUTES``: it reads the blobs checked
longest ago (never-checked first) until it has read its share of the store — the store's bytes
times round length over ``DANGAN_FIXITY_PERIOD_DAYS``, or more when blobs are overdue — so that
every blob is read at least once a period without the disks ever being busy for long. Reading is
held under ``DANGAN_FIXITY_MB_PER_S`` (0: no cap) so that the audit never starves the reading
room, and a round never reads more than the cap allows in one round's time.

Each blob keeps when it was last read and what was found (``BlobFixity``); a blob changed,
missing or unreadable raises an alert (``alerts.raise_alert``: log, dashboard, mail). A blob
missing after its ``content.removed`` ledger entry (a record destroyed by a destruction list) is
expected and counts as removed, not as a failure. Blobs lying in the store unknown to the
catalogue (orphans) are reported once a day. ``dangan fixity`` runs a round by hand, or every
blob with ``--all``.
"""

import datetime
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.content.models import Blob, Page
from dangan.content.stores import CHUNK_BYTES, LocalStore, blob_key, get_store

from . import ledger
from .alerts import raise_alert
from .models import BlobFixity, FixityRun, LedgerEntry, StorageAlert
from .storage import check_storage

logger = logging.getLogger("dangan.integrity")

MB = 1000**2
#: Orphans are looked for at most this often by the worker (listing a big bucket costs).
ORPHAN_SCAN_EVERY = datetime.timedelta(days=1)
#: A blob younger than this may be an upload whose catalogue rows are still being written.
ORPHAN_GRACE = datetime.timedelta(hours=1)

_ALERT_KIND = {
    BlobFixity.Outcome.CHANGED: StorageAlert.Kind.BLOB_CHANGED,
    BlobFixity.Outcome.MISSING: StorageAlert.Kind.BLOB_MISSING,
    BlobFixity.Outcome.UNREADABLE: StorageAlert.Kind.BLOB_UNREADABLE,
}


class Throttle:
    """Hold reading under ``mb_per_s`` on average since the start (0 or None: no cap)."""

    def __init__(self, mb_per_s: float | None):
        self.rate = (mb_per_s or 0) * MB
        self.start = time.monotonic()
        self.done = 0

    def spent(self, n: int) -> None:
        self.done += n
        if self.rate:
            ahead = self.done / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


def _is_missing(error: Exception) -> bool:
    if isinstance(error, FileNotFoundError):
        return True
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


def _failure(error: Exception) -> tuple[str, str]:
    """(outcome, finding) of a blob that could not be read because of ``error``."""
    if _is_missing(error):
        return BlobFixity.Outcome.MISSING, _("not in the store")
    if type(error).__name__ == "ContentIntegrityError":  # sealed bytes changed at rest
        return BlobFixity.Outcome.CHANGED, str(error)[:300]
    return BlobFixity.Outcome.UNREADABLE, f"{type(error).__name__}: {error}"[:300]


def report_unreadable(blob: Blob, error: Exception) -> None:
    """A blob that failed someone who wanted to read it: kept as its fixity finding and
    alerted now, not at the next round."""
    outcome, finding = _failure(error)
    _keep(blob, outcome, finding, timezone.now())
    _alert(blob, outcome, finding)


def read_blob(store, blob: Blob, throttle: Throttle, buffer: bytearray) -> tuple[str, str, int]:
    """Read ``blob`` whole from ``store``: (outcome, finding, bytes read)."""
    digest, size = hashlib.sha256(), 0
    view = memoryview(buffer)
    try:
        stream = store.open(blob.key)
        try:
            readinto = getattr(stream, "readinto", None)
            while True:
                if readinto is not None:
                    n = readinto(buffer)
                    chunk = view[:n]
                else:
                    chunk = stream.read(CHUNK_BYTES)
                    n = len(chunk)
                if not n:
                    break
                digest.update(chunk)
                size += n
                throttle.spent(n)
        finally:
            stream.close()
    except Exception as error:
        return (*_failure(error), size)
    found = digest.hexdigest()
    if found != blob.sha256 or size != blob.size:
        return (
            BlobFixity.Outcome.CHANGED,
            _("read %(size)d bytes with SHA-256 %(found)s; kept %(kept)d bytes")
            % {"size": size, "found": found, "kept": blob.size},
            size,
        )
    return BlobFixity.Outcome.OK, "", size


def _removed_on_purpose(blob: Blob) -> bool:
    """The ledger's last word on this blob is ``content.removed``: its record was destroyed."""
    last = (
        LedgerEntry.objects.filter(subject=f"blob:{blob.sha256}")
        .order_by("-seq")
        .values_list("kind", flat=True)
        .first()
    )
    return last == ledger.CONTENT_REMOVED


def _keep(blob: Blob, outcome: str, finding: str, now) -> None:
    values = {"checked_at": now, "outcome": outcome, "finding": finding[:300]}
    if outcome == BlobFixity.Outcome.OK:
        values["last_ok_at"] = now
    BlobFixity.objects.update_or_create(blob=blob, defaults=values)


def _alert(blob: Blob, outcome: str, finding: str) -> None:
    pages = Page.objects.filter(blob=blob)
    raise_alert(
        kind=_ALERT_KIND[outcome],
        subject=f"blob:{blob.sha256}",
        message=_("Blob %(sha)s (%(size)d bytes, %(pages)d pages): %(finding)s")
        % {"sha": blob.sha256, "size": blob.size, "pages": pages.count(), "finding": finding},
        details={
            "sha256": blob.sha256,
            "size": blob.size,
            "finding": finding,
            "records": sorted(set(pages.values_list("record_id", flat=True)))[:100],
        },
    )


# --- Choosing what to read -----------------------------------------------------------------------
def _ordered() -> Iterable[Blob]:
    return Blob.objects.order_by(F("fixity__checked_at").asc(nulls_first=True), "id")


def due_blobs(*, now=None, mb_per_s: float | None = None) -> list[Blob]:
    """The blobs one round of the rolling schedule reads, oldest-checked first."""
    now = now or timezone.now()
    period = datetime.timedelta(days=settings.DANGAN_FIXITY_PERIOD_DAYS)
    round_seconds = settings.DANGAN_FIXITY_ROUND_MINUTES * 60
    total = Blob.objects.aggregate(total=Sum("size"))["total"] or 0
    overdue = (
        Blob.objects.filter(
            Q(fixity__isnull=True) | Q(fixity__checked_at__lt=now - period)
        ).aggregate(total=Sum("size"))["total"]
        or 0
    )
    quota = max(total * round_seconds / period.total_seconds(), overdue)
    cap = settings.DANGAN_FIXITY_MB_PER_S if mb_per_s is None else mb_per_s
    if cap:
        quota = min(quota, cap * MB * round_seconds)
    chosen, taken = [], 0
    for blob in _ordered().iterator(chunk_size=1000):
        if chosen and taken + blob.size > quota:
            break
        chosen.append(blob)
        taken += blob.size
    return chosen


def _all_by_id(batch: int = 2000) -> Iterable[Blob]:
    """Every blob in id order, a page at a time (keyset): safe while their rows are written."""
    last = 0
    while page := list(Blob.objects.filter(id__gt=last).order_by("id")[:batch]):
        yield from page
        last = page[-1].id


# --- Orphans -------------------------------------------------------------------------------------
def _store_keys(store) -> Iterable[tuple[str, datetime.datetime]]:
    """(sha256, last modified) of every blob in the store, a two-hex-digit prefix at a time."""
    if isinstance(store, LocalStore):
        for top in sorted(store.root.glob("[0-9a-f][0-9a-f]")):
            for path in sorted(top.glob("[0-9a-f][0-9a-f]/*")):
                if path.is_file() and len(path.name) == 64:
                    mtime = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC)
                    yield path.name, mtime
        return
    paginator = store.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.bucket, Prefix=store.prefix):
        for item in page.get("Contents", []):
            key = item["Key"][len(store.prefix) :]
            name = key.rsplit("/", 1)[-1]
            if not key.startswith("incoming/") and len(name) == 64 and key == blob_key(name):
                yield name, item["LastModified"]


def find_orphans(store=None, *, now=None) -> list[str]:
    """SHA-256 of the blobs in the store that no ``Blob`` row knows (older than the grace)."""
    store = store or get_store()
    cutoff = (now or timezone.now()) - ORPHAN_GRACE
    orphans, batch = [], []

    def flush():
        known = set(
            Blob.objects.filter(sha256__in=[sha for sha, _at in batch]).values_list(
                "sha256", flat=True
            )
        )
        orphans.extend(sha for sha, at in batch if sha not in known and at < cutoff)
        batch.clear()

    for sha, modified in _store_keys(store):
        batch.append((sha, modified))
        if len(batch) >= 500:
            flush()
    flush()
    return orphans


# --- A run ---------------------------------------------------------------------------------------
@dataclass
class Progress:
    blobs: int = 0
    bytes: int = 0
    failures: list[dict] = field(default_factory=list)


def run_fixity(
    *,
    trigger: str,
    everything: bool = False,
    mb_per_s: float | None = None,
    orphans: bool | None = None,
    storage: bool = True,
    blobs: list[Blob] | None = None,
    on_blob: Callable[[Progress, int], None] | None = None,
) -> tuple[FixityRun, Progress]:
    """Read the due blobs (or ``everything``, or the ``blobs`` given) and keep what was found.

    ``orphans`` None: list the store when the last listing is older than a day. ``on_blob``
    is told the progress after each blob and the number of blobs to read (for a progress bar).
    First, the SM3 digests still empty after a worker stopped before its task ran are filled.
    """
    from dangan.content.services import fill_missing_sm3

    fill_missing_sm3()
    started, clock = timezone.now(), time.monotonic()
    cap = settings.DANGAN_FIXITY_MB_PER_S if mb_per_s is None else mb_per_s
    store = get_store()
    if blobs is None and everything:  # a province's millions of rows: stream them
        total, blobs = Blob.objects.count(), _all_by_id()
    else:
        blobs = due_blobs(now=started, mb_per_s=cap) if blobs is None else blobs
        total = len(blobs)
    progress, throttle, buffer = Progress(), Throttle(cap), bytearray(CHUNK_BYTES)
    for blob in blobs:
        outcome, finding, size = read_blob(store, blob, throttle, buffer)
        if outcome == BlobFixity.Outcome.MISSING and _removed_on_purpose(blob):
            outcome, finding = BlobFixity.Outcome.REMOVED, ""
        _keep(blob, outcome, finding, timezone.now())
        progress.blobs += 1
        progress.bytes += size
        if outcome in _ALERT_KIND:
            progress.failures.append(
                {"sha256": blob.sha256, "outcome": str(outcome), "finding": finding}
            )
            _alert(blob, outcome, finding)
        if on_blob is not None:
            on_blob(progress, total)
    if orphans is None:
        last = FixityRun.objects.filter(orphans__isnull=False).first()
        orphans = last is None or last.started_at < started - ORPHAN_SCAN_EVERY
    found_orphans = find_orphans(store, now=started) if orphans else None
    if found_orphans:
        raise_alert(
            kind=StorageAlert.Kind.ORPHANS,
            subject=str(store),
            message=_("%(n)d blobs in the store are unknown to the catalogue.")
            % {"n": len(found_orphans)},
            details={"sha256": found_orphans[:200], "count": len(found_orphans)},
        )
    run = FixityRun.objects.create(
        started_at=started,
        seconds=round(time.monotonic() - clock, 3),
        trigger=trigger,
        blobs=progress.blobs,
        bytes=progress.bytes,
        failures=len(progress.failures),
        orphans=None if found_orphans is None else len(found_orphans),
        mb_per_s_cap=cap or 0,
        storage=check_storage() if storage else [],
    )
    if found_orphans:
        progress.failures.append({"orphans": found_orphans[:200], "count": len(found_orphans)})
    logger.info(
        "Fixity %s: %d blobs, %.1f MB in %.1f s, %d failed",
        trigger,
        run.blobs,
        run.bytes / MB,
        run.seconds,
        run.failures,
    )
    return run, progress


# --- The worker's schedule -----------------------------------------------------------------------
ROUND_TASK = "dangan.integrity.tasks.fixity_round_task"


def ensure_scheduled(*, from_round: bool = False) -> bool:
    """Enqueue the next round unless one is already waiting (or running, unless this is called
    by that round itself); True when enqueued.

    Called after every ``migrate`` (which ``dangan run`` does at each start) and at the end of
    each round, so the schedule keeps itself going as long as a worker runs.
    """
    from dangan.jobs.rounds import schedule_round

    from .tasks import fixity_round_task

    if not settings.DANGAN_FIXITY_SCHEDULE:
        return False
    # At a start, the first round comes a minute later (the server up first); then one a round.
    minutes = settings.DANGAN_FIXITY_ROUND_MINUTES if from_round else 1
    run_after = timezone.now() + datetime.timedelta(minutes=minutes)
    return schedule_round(fixity_round_task, run_after=run_after, from_round=from_round)


def schedule_after_migrate(*, using="default", **kwargs) -> None:
    """``post_migrate``: make sure a fixity round is waiting for the worker."""
    if using == "default":
        ensure_scheduled()
