"""账本 (the ledger): an append-only hash chain over the events that prove authenticity.

Every service that files or changes a record, adds or removes content, destroys or transfers
records calls ``append`` (or ``append_many`` for a batch) *inside its own transaction*: the
entry exists exactly when the change does. Each entry's hash covers its columns and the hash of
the entry before it (``entry_line``), so an entry edited or removed behind the application's
back breaks the chain. Each complete day is sealed (``seal_days``): the Merkle root of its
entries is signed with the archive's Ed25519 key and copied to an outside witness folder; a
chain rewritten and re-hashed from some entry on no longer matches that copy.

The contract for other apps::

    from dangan.integrity import ledger
    ledger.append(kind=ledger.RECORD_FILED, subject="record:123", digest="sha256:…",
                  actor=user, details={...})
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from dangan.core import canonical
from dangan.core.canonical import sha256_of  # noqa: F401  (ledger.sha256_of, as ever)
from dangan.pdf import render_pdf

from .models import LedgerEntry, LedgerHead

RECORD_FILED = "record.filed"
RECORD_CHANGED = "record.changed"
RECORD_DESTROYED = "record.destroyed"
CONTENT_ADDED = "content.added"
CONTENT_REMOVED = "content.removed"
#: The SM3 digest of content added before, computed once the bytes were stored.
CONTENT_SM3 = "content.sm3"
#: A rendition (PDF/A of a born-digital original) made by the archive: from what, by what.
CONTENT_RENDERED = "content.rendered"
#: A relation between two records made, or removed (``catalogue.relations``).
RECORD_RELATED = "record.related"
RECORD_UNRELATED = "record.unrelated"
TRANSFER_EXPORTED = "transfer.exported"
TRANSFER_IMPORTED = "transfer.imported"
#: The audit trail's chain head, written when a day is sealed: the ledger vouches for the trail.
AUDIT_HEAD = "audit.head"
#: A certificate of a record's content issued to a citizen (dangan.access).
CERTIFICATE_ISSUED = "certificate.issued"
#: ... and revoked, when it was issued in error.
CERTIFICATE_REVOKED = "certificate.revoked"
#: A certificate of another archive delivered at this desk, or this archive's delivered to
#: another's (dangan.remote: 异地查档).
CERTIFICATE_DELIVERED = "certificate.delivered"
#: A person's ID number, name, sex and date of birth (``people.digests.person_digest``): when
#: the person came on file, was corrected, was merged into another (or the merge undone).
PERSON_ADDED = "person.added"
PERSON_CHANGED = "person.changed"
PERSON_MERGED = "person.merged"
PERSON_UNMERGED = "person.unmerged"
PERSON_KINDS = (PERSON_ADDED, PERSON_CHANGED, PERSON_MERGED, PERSON_UNMERGED)
KINDS = (
    *PERSON_KINDS,
    RECORD_FILED,
    RECORD_CHANGED,
    RECORD_DESTROYED,
    CONTENT_ADDED,
    CONTENT_REMOVED,
    CONTENT_SM3,
    CONTENT_RENDERED,
    RECORD_RELATED,
    RECORD_UNRELATED,
    TRANSFER_EXPORTED,
    TRANSFER_IMPORTED,
    AUDIT_HEAD,
    CERTIFICATE_ISSUED,
    CERTIFICATE_REVOKED,
    CERTIFICATE_DELIVERED,
)
#: Separates the columns of an entry's hashed line; refused inside the plain-text columns
#: (the details are JSON, which escapes it).
SEPARATOR = "\x1f"
#: How ``at`` enters the hash: UTC to the second, the way SQLite stores it and PostgreSQL
#: prints it, so that verification reads it as text without parsing a date per row.
AT_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Pending:
    """One entry before it is numbered and chained."""

    kind: str
    subject: str
    digest: str = ""
    details: dict | None = field(default=None)


def canonical_json(value) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the same value always gives the same text."""
    if value is None:
        return ""
    return canonical.dumps(value)


def entry_line(seq, previous, at, day, kind, subject, digest, actor, details) -> bytes:
    """The bytes an entry's hash covers; ``at`` and ``day`` as text (``AT_FORMAT``, ISO)."""
    return SEPARATOR.join(
        (str(seq), previous, at, day, kind, subject, digest, actor, details)
    ).encode()


def entry_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _plain(text: str, name: str) -> str:
    if SEPARATOR in text:
        raise ValueError(f"The ledger's {name} may not hold a unit separator.")
    return text


def _actor_name(actor) -> str:
    return getattr(actor, "username", "") or "system"


#: The columns ``append_many`` writes, in the order of its rows.
_COLUMNS = [
    "seq",
    "at",
    "day",
    "kind",
    "subject",
    "digest",
    "actor",
    "details",
    "previous",
    "hash",
]


def append_many(*, actor, entries: list[Pending]) -> list[tuple[int, str]]:
    """Number, chain and store ``entries`` by ``actor`` (a user or None for the system); the
    ``(number, hash)`` of each.

    Call it inside the transaction of the change the entries record. The chain's head row is
    locked (a row lock on PostgreSQL; SQLite's writing transaction already holds the database's
    write lock), so concurrent writers queue and the chain stays one line. One hash per entry and
    one INSERT per thousand, as plain rows: a register import of a hundred thousand rows can
    afford it.
    """
    from dangan.core import bulk_insert

    if not entries:
        return []
    name = _plain(_actor_name(actor), "actor")
    with transaction.atomic():
        head, _created = LedgerHead.objects.select_for_update().get_or_create(pk=1)
        # The time is taken under the lock: an entry is never older than one sealed before it.
        at = timezone.now().replace(microsecond=0)
        at_text = at.astimezone(datetime.UTC).strftime(AT_FORMAT)
        day_text = timezone.localdate(at).isoformat()
        seq, previous = head.seq, head.hash
        rows, done = [], []
        for e in entries:
            if e.kind not in KINDS:
                raise ValueError(f"Unknown ledger kind {e.kind!r}.")
            seq += 1
            details = canonical_json(e.details)
            subject = _plain(e.subject, "subject")[:200]
            digest = _plain(e.digest or "", "digest")[:200]
            line = entry_line(
                seq, previous, at_text, day_text, e.kind, subject, digest, name, details
            )
            hash_ = entry_hash(line)
            rows.append(
                (seq, at, day_text, e.kind, subject, digest, name, details, previous, hash_)
            )
            done.append((seq, hash_))
            previous = hash_
        bulk_insert.insert_rows(LedgerEntry, _COLUMNS, rows)
        head.seq, head.hash = seq, previous
        head.save(update_fields=["seq", "hash"])
    return done


def append(*, kind: str, subject: str, digest: str = "", actor=None, details=None) -> LedgerEntry:
    """Append one entry and return it; see ``append_many``. ``subject`` names what the entry is
    about, e.g. ``record:123`` or ``blob:<sha256>``; ``digest`` is what it looked like then."""
    ((seq, _hash),) = append_many(
        actor=actor,
        entries=[Pending(kind=kind, subject=subject, digest=digest, details=details)],
    )
    return LedgerEntry.objects.get(seq=seq)


# --- Day roots -----------------------------------------------------------------------------------
def merkle_root(leaves: list[bytes]) -> str:
    """The Merkle root (hex) of a day's entry hashes, in entry order.

    A pair is hashed as SHA-256(0x01 ‖ left ‖ right); an odd node at the end of a level moves up
    unchanged; one leaf is its own root. Enough for anyone to recompute from an exported day.
    """
    if not leaves:
        return ""
    level = list(leaves)
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def key_path():
    """Where the archive's own ledger signing key lives: beside the database, mode 600."""
    from django.conf import settings

    return settings.DATA_DIR / "ledger-ed25519.pem"


def signing_key():
    """The archive's Ed25519 key for day roots (a PEM file), created on first use."""
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path()
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by another process a moment ago
            pass
        else:
            with os.fdopen(descriptor, "wb") as out:
                out.write(pem)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_key_text(private) -> str:
    import base64

    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()


def signed_text(root) -> bytes:
    """What a day root's signature covers: the day, its entries' range and count, the root and
    the hash of its last entry, as canonical JSON."""
    return canonical_json(
        {
            "day": root.day.isoformat() if hasattr(root.day, "isoformat") else root.day,
            "first_seq": root.first_seq,
            "last_seq": root.last_seq,
            "count": root.count,
            "root": root.root,
            "last_hash": root.last_hash,
        }
    ).encode()


def signature_ok(root) -> bool:
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if root.algorithm != "ed25519":
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(root.public_key))
        key.verify(base64.b64decode(root.signature), signed_text(root))
    except (InvalidSignature, ValueError):
        return False
    return True


def witness_dir():
    """The outside witness folder (``DANGAN_LEDGER_WITNESS_DIR``), or None when not set."""

    from django.conf import settings

    folder = getattr(settings, "DANGAN_LEDGER_WITNESS_DIR", None)
    return Path(folder) if folder else None


def witness_file(folder, day) -> "object":
    return folder / f"ledger-{day.isoformat() if hasattr(day, 'isoformat') else day}.json"


def day_document(root) -> dict:
    """The exported form of a sealed day: the signed root and every entry whole (number, time,
    kind, subject, digest, actor, details, hash), so that anyone can recompute the root and a
    witnessed copy names the entries that were rewritten."""
    entries = list(
        LedgerEntry.objects.filter(seq__gte=root.first_seq, seq__lte=root.last_seq)
        .order_by("seq")
        .values_list("seq", "at", "kind", "subject", "digest", "actor", "details", "hash")
    )
    return {
        "format": "dangan-ledger-day/1",
        "day": root.day.isoformat(),
        "first_seq": root.first_seq,
        "last_seq": root.last_seq,
        "count": root.count,
        "root": root.root,
        "last_hash": root.last_hash,
        "algorithm": root.algorithm,
        "public_key": root.public_key,
        "signature": root.signature,
        "sealed_at": root.sealed_at.isoformat(),
        "entries": [
            [seq, at.astimezone(datetime.UTC).strftime(AT_FORMAT), *rest]
            for seq, at, *rest in entries
        ],
    }


def write_witness(root, folder=None) -> "object | None":
    """Copy a sealed day to the witness folder (written once: an existing copy is kept)."""
    import os

    folder = folder or witness_dir()
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = witness_file(folder, root.day)
    if path.exists():
        return path
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(day_document(root), ensure_ascii=False, indent=1))
    os.replace(temporary, path)
    return path


def seal_days(*, actor=None, before: datetime.date | None = None) -> list:
    """Seal every day before ``before`` (default: today) that has entries and no root yet.

    First the audit trail's chain heads go into the ledger (``audit.head``, one entry for each
    chain that moved since), so the ledger vouches for the trail; then each complete day's Merkle
    root is computed, signed, stored and copied to the witness folder. Run daily (``dangan
    ledger seal``); ``dangan verify`` runs it too.
    """
    import base64

    from django.db.models import Max, Min

    from dangan.audit.models import AuditEvent
    from dangan.audit.services import chain_heads

    from .models import DayRoot

    before = before or timezone.localdate()
    private = signing_key()
    sealed = []
    with transaction.atomic():
        # Each chain's newest committed entry is a point its chain passed: no audit head is
        # locked, so writers of the trail never wait for the seal.
        heads = chain_heads()
        if heads:
            known = set(
                LedgerEntry.objects.filter(kind=AUDIT_HEAD).values_list("digest", flat=True)
            )
            for chain, event_id, event_digest in heads:
                digest = f"sha256:{event_digest}"
                if digest not in known:
                    append(
                        kind=AUDIT_HEAD,
                        subject=f"audit:{event_id}",
                        digest=digest,
                        actor=actor,
                        details={"audit_id": event_id, "chain": chain},
                    )
        LedgerHead.objects.select_for_update().get_or_create(pk=1)
        sealed_days = set(DayRoot.objects.values_list("day", flat=True))
        days = (
            LedgerEntry.objects.filter(day__lt=before)
            .values("day")
            .annotate(first=Min("seq"), last=Max("seq"))
            .order_by("day")
        )
        for row in days:
            if row["day"] in sealed_days:
                continue
            hashes = list(
                LedgerEntry.objects.filter(seq__gte=row["first"], seq__lte=row["last"])
                .order_by("seq")
                .values_list("hash", flat=True)
            )
            root = DayRoot(
                day=row["day"],
                first_seq=row["first"],
                last_seq=row["last"],
                count=len(hashes),
                root=merkle_root([bytes.fromhex(h) for h in hashes]),
                last_hash=hashes[-1],
                algorithm="ed25519",
                public_key=public_key_text(private),
                sealed_at=timezone.now(),
            )
            root.signature = base64.b64encode(private.sign(signed_text(root))).decode()
            root.save()
            sealed.append(root)
        if sealed:
            from dangan.audit.services import record_event

            record_event(
                actor=actor,
                action=AuditEvent.Action.CREATE,
                obj=sealed[-1],
                detail={"sealed": [(r.day.isoformat(), r.root) for r in sealed]},
            )
    for root in sealed:  # after commit: a witness copy of a root that was rolled back is worse
        write_witness(root)
    return sealed


def day_pdf(root) -> bytes:
    """The printable page of a sealed day: its root, range, signature and public key, with a
    QR code of the root, to sign and file on paper; kept for good, so PDF/A-2b (WeasyPrint,
    Noto Sans CJK)."""
    import segno
    from django.template.loader import render_to_string

    html = render_to_string(
        "integrity/day_root_print.html",
        {
            "root": root,
            "qr": segno.make(f"{root.day} {root.root}", error="m").svg_data_uri(scale=3),
            "printed": timezone.localdate(),
        },
    )
    return render_pdf(html, stylesheets=[Path(__file__).with_name("day_root.css")], pdfa=True)
