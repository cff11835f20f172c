"""The four-property check engine (四性检测, DA/T 70-2018): checks with ids, verdicts, evidence.

Whoever has something to check — a hand-over list, an offline package, later the store itself —
describes it as a ``Submission`` (what was declared, the items, the files with a way to open
each one) and calls ``run_checks``. Every file is read once: SHA-256 (and SM3 when asked),
format identification by content, all in one pass, the files spread over a few threads
(hashlib and cryptography release the GIL, so the cores really work at once). The checks then
only compare. Each check returns a verdict — pass, fail, or skipped with the reason said
plainly — and evidence naming the files or items concerned.

Check ids follow DA/T 70's scheme stage-property-number: ``YJ`` is the hand-over and receipt
stage (移交与接收), properties 1 authenticity (真实性), 2 integrity (完整性), 3 usability
(可用性), 4 security (安全性). Which formats count as fit for long-term keeping is configuration
(``DANGAN_INTEGRITY_FORMATS``), as STANDARDS.md asks for rules taken from secondary sources.
"""

import hashlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.content.digests import sm3 as new_sm3
from dangan.content.formats import HEAD_BYTES, Identifier

from .models import Property, Verdict

READ_BYTES = 1024 * 1024
#: Long-term formats by default (DA/T 70 usability; GB/T 18894): names as ``content.formats``.
DEFAULT_FORMATS = ("PDF/A", "OFD", "TIFF", "JPEG", "JPEG 2000", "WAV", "MP3", "MP4")
#: Evidence lines kept per check: a package of 10,000 bad files needs no 10,000-line report.
MAX_EVIDENCE = 200


@dataclass
class FileEntry:
    """A file to check: what was declared about it and how to read it."""

    name: str
    declared_sha256: str
    open: Callable  # () -> binary stream positioned at the file's first byte
    size: int | None = None  # the length to read from the stream (None: to its end)
    declared_size: int | None = None
    declared_sm3: str = ""
    item: int | None = None
    page: int | None = None
    path: str | None = None  # a local path, for the virus scanner
    format_name: str = ""  # already identified (a stored blob); else identified here
    content: bool = True  # False: a package's own metadata file (no format, no page number)


@dataclass
class ItemEntry:
    position: int
    label: str
    metadata_errors: list = field(default_factory=list)


@dataclass
class Submission:
    """Everything one receipt check looks at."""

    label: str
    #: ``ItemEntry`` list, or a function returning it (called by ``run_checks``, so that the
    #: metadata checks count in the run's time).
    items: object
    files: list
    declared_items: int | None = None
    declared_bytes: int | None = None
    missing: list = field(default_factory=list)  # listed, not there
    extra: list = field(default_factory=list)  # there, not listed
    #: ``(valid, evidence lines)`` or None when the submission carries no signature.
    signature: tuple | None = None
    #: Evidence lines of changed tag files (a package's manifests), or None when not a package.
    tag_changes: list | None = None
    verify_sm3: bool = False
    #: Local files for the virus scanner besides the files' own paths (a whole package).
    scan_paths: list = field(default_factory=list)


@dataclass
class Reading:
    sha256: str = ""
    sm3: str = ""
    size: int = 0
    format_name: str = ""
    refusal: str = ""
    error: str = ""


@dataclass
class Outcome:
    check_id: str
    property: str
    name: str
    verdict: str
    summary: str
    evidence: list = field(default_factory=list)


@dataclass
class Run:
    outcomes: list
    items: int
    files: int
    bytes: int
    seconds: float

    @property
    def passed(self) -> bool:
        return all(o.verdict != Verdict.FAIL for o in self.outcomes)

    def failed(self) -> list:
        return [o.check_id for o in self.outcomes if o.verdict == Verdict.FAIL]


# --- Reading every file once ---------------------------------------------------------------------
def read_file(entry: FileEntry, *, with_sm3: bool) -> Reading:
    reading = Reading()
    sha = hashlib.sha256()
    sm3 = new_sm3() if with_sm3 else None
    identifier = None if entry.format_name else Identifier(entry.name)
    view = _buffer()
    left = entry.size
    try:
        stream = entry.open()
    except OSError as error:
        reading.error = str(error)
        return reading
    try:
        while left is None or left > 0:
            want = READ_BYTES if left is None else min(READ_BYTES, left)
            got = stream.readinto(view[:want]) if hasattr(stream, "readinto") else None
            if got is None:  # a stream without readinto (an S3 body)
                data = stream.read(want)
                got = len(data)
                view[:got] = data
            if not got:
                break
            part = view[:got]
            sha.update(part)
            if sm3 is not None:
                sm3.update(bytes(part))
            if identifier is not None and (reading.size == 0 or identifier.needs_more):
                try:
                    _identify(identifier, part, first=reading.size == 0)
                except ValidationError as refusal:
                    reading.refusal = " ".join(refusal.messages)
                    identifier = None
            reading.size += got
            if left is not None:
                left -= got
    except (OSError, TypeError) as error:
        reading.error = str(error)
    finally:
        stream.close()
    reading.sha256 = sha.hexdigest()
    reading.sm3 = sm3.hexdigest() if sm3 is not None else ""
    if identifier is not None:
        try:
            reading.format_name = identifier.finish().name
        except ValidationError as refusal:
            reading.refusal = " ".join(refusal.messages)
    else:
        reading.format_name = entry.format_name
    return reading


_local = threading.local()


def _buffer() -> memoryview:
    """One read buffer per thread, reused from file to file."""
    if not hasattr(_local, "view"):
        _local.view = memoryview(bytearray(READ_BYTES))
    return _local.view


def _identify(identifier: Identifier, part, *, first: bool) -> None:
    """Feed the identifier what it needs: the head first, the rest only for a PDF or ZIP (the
    identifier keeps copies of what it is fed, never the reused buffer itself)."""
    if first and len(part) > HEAD_BYTES:
        identifier.feed(part[:HEAD_BYTES])
        if identifier.needs_more:
            identifier.feed(part[HEAD_BYTES:])
    else:
        identifier.feed(part)


def read_all(files: list, *, with_sm3: bool, workers: int | None = None) -> list:
    workers = workers or min(4, os.cpu_count() or 1)
    if workers == 1 or len(files) < 2:
        return [read_file(f, with_sm3=with_sm3) for f in files]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fixity") as pool:
        return list(pool.map(lambda f: read_file(f, with_sm3=with_sm3), files))


# --- The checks ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    id: str
    property: str
    name: object  # a lazy translation
    run: Callable


def _result(verdict, summary, evidence=()):
    evidence = list(evidence)
    if len(evidence) > MAX_EVIDENCE:
        more = len(evidence) - MAX_EVIDENCE
        evidence = evidence[:MAX_EVIDENCE] + [_("… and %(n)d more") % {"n": more}]
    return verdict, summary, evidence


def _fixity_sha256(sub, readings):
    bad = [
        _("%(name)s: SHA-256 sent %(sent)s, received %(got)s")
        % {"name": f.name, "sent": f.declared_sha256 or "—", "got": r.sha256}
        for f, r in zip(sub.files, readings, strict=True)
        if r.error or r.sha256 != (f.declared_sha256 or "").lower()
    ]
    if bad:
        return _result(
            Verdict.FAIL, _("%(n)d file(s) differ from what was sent.") % {"n": len(bad)}, bad
        )
    return _result(
        Verdict.PASS, _("All %(n)d files match their SHA-256 digests.") % {"n": len(sub.files)}
    )


def _fixity_sm3(sub, readings):
    if not sub.verify_sm3:
        return _result(Verdict.SKIPPED, _("SM3 digests were not recomputed in this run."))
    declared = [(f, r) for f, r in zip(sub.files, readings, strict=True) if f.declared_sm3]
    if not declared:
        return _result(Verdict.SKIPPED, _("No SM3 digests were sent."))
    bad = [
        _("%(name)s: SM3 sent %(sent)s, received %(got)s")
        % {"name": f.name, "sent": f.declared_sm3, "got": r.sm3}
        for f, r in declared
        if r.sm3 != f.declared_sm3.lower()
    ]
    if bad:
        return _result(
            Verdict.FAIL, _("%(n)d file(s) differ from what was sent.") % {"n": len(bad)}, bad
        )
    return _result(
        Verdict.PASS, _("All %(n)d files match their SM3 digests.") % {"n": len(declared)}
    )


def _signature(sub, readings):
    if sub.signature is None:
        return _result(
            Verdict.SKIPPED, _("Sent on line by a logged-in clerk; no signature to check.")
        )
    valid, evidence = sub.signature
    if valid:
        return _result(Verdict.PASS, _("The signature is valid."), evidence)
    return _result(Verdict.FAIL, _("The signature is not valid."), evidence)


def _tag_files(sub, readings):
    if sub.tag_changes is None:
        return _result(Verdict.SKIPPED, _("Not a package."))
    if sub.tag_changes:
        return _result(Verdict.FAIL, _("The package's own files were changed."), sub.tag_changes)
    return _result(Verdict.PASS, _("Manifests and package description are unchanged."))


def _item_count(sub, readings):
    if sub.declared_items is None:
        return _result(Verdict.SKIPPED, _("The list does not state its number of items."))
    if sub.declared_items != len(sub.items):
        return _result(
            Verdict.FAIL,
            _("The list states %(declared)d items; %(got)d arrived.")
            % {"declared": sub.declared_items, "got": len(sub.items)},
        )
    return _result(Verdict.PASS, _("%(n)d items, as the list states.") % {"n": len(sub.items)})


def _byte_count(sub, readings):
    got = sum(r.size for r in readings)
    evidence = [
        _("%(name)s: %(sent)d bytes sent, %(got)d received")
        % {"name": f.name, "sent": f.declared_size, "got": r.size}
        for f, r in zip(sub.files, readings, strict=True)
        if f.declared_size is not None and f.declared_size != r.size
    ]
    if sub.declared_bytes is not None and sub.declared_bytes != got:
        return _result(
            Verdict.FAIL,
            _("The list states %(declared)d bytes; %(got)d arrived.")
            % {"declared": sub.declared_bytes, "got": got},
            evidence,
        )
    if evidence:
        return _result(Verdict.FAIL, _("File sizes differ from the list."), evidence)
    return _result(Verdict.PASS, _("%(n)d bytes, as the list states.") % {"n": got})


def _metadata(sub, readings):
    bad = [
        f"{item.position}. {item.label}: {error}"
        for item in sub.items
        for error in item.metadata_errors
    ]
    if bad:
        return _result(Verdict.FAIL, _("Required metadata is missing or invalid."), bad)
    return _result(Verdict.PASS, _("Every item has its required metadata, valid."))


def _numbering(sub, readings):
    evidence = []
    positions = [item.position for item in sub.items]
    if positions != list(range(1, len(positions) + 1)):
        evidence.append(
            _("Item numbers: %(numbers)s") % {"numbers": ", ".join(map(str, positions))}
        )
    pages = {}
    for entry in sub.files:
        if entry.content and entry.item is not None and entry.page is not None:
            pages.setdefault(entry.item, []).append(entry.page)
    for item, numbers in sorted(pages.items()):
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            evidence.append(
                _("Item %(item)d, pages: %(numbers)s")
                % {"item": item, "numbers": ", ".join(map(str, sorted(numbers)))}
            )
    without = [item.position for item in sub.items if item.position not in pages]
    if without:
        evidence.append(
            _("Items without files: %(numbers)s") % {"numbers": ", ".join(map(str, without))}
        )
    if evidence:
        return _result(Verdict.FAIL, _("There are gaps in the numbering."), evidence)
    return _result(Verdict.PASS, _("Items and pages are numbered without gaps."))


def _completeness(sub, readings):
    if sub.missing:
        return _result(
            Verdict.FAIL,
            _("%(n)d file(s) listed are missing.") % {"n": len(sub.missing)},
            sub.missing,
        )
    return _result(Verdict.PASS, _("Every file listed is there."))


def allowed_formats() -> tuple:
    return tuple(settings.DANGAN_INTEGRITY_FORMATS or DEFAULT_FORMATS)


def _formats(sub, readings):
    allowed = allowed_formats()
    bad = []
    for entry, reading in zip(sub.files, readings, strict=True):
        if not entry.content:
            continue
        if reading.refusal:
            bad.append(f"{entry.name}: {reading.refusal}")
        elif reading.format_name not in allowed:
            bad.append(
                _("%(name)s: %(format)s is not a long-term format")
                % {"name": entry.name, "format": reading.format_name or "?"}
            )
    if bad:
        return _result(Verdict.FAIL, _("Some files are not in an allowed format."), bad)
    return _result(
        Verdict.PASS,
        _("Every file is in an allowed format (%(formats)s).") % {"formats": ", ".join(allowed)},
    )


def _virus_scan(sub, readings):
    """YJ-4-1 through ClamAV: clamd's socket (every file streamed, wherever it is stored),
    else clamscan/clamdscan on the files' paths; "not configured" when there is neither."""
    from dangan.security import antivirus

    if settings.DANGAN_CLAMAV_SOCKET:
        found, failed = [], []
        for f in sub.files:
            try:
                stream = f.open()
                try:
                    finding = antivirus.scan_stream(stream, f.size)
                finally:
                    stream.close()
            except (antivirus.ScanFailed, OSError) as error:
                failed.append(f"{f.name}: {error}")
                continue
            if finding:
                found.append(f"{f.name}: {finding}")
        if found:
            return _result(Verdict.FAIL, _("Malicious content was found."), found)
        if failed:
            return _result(Verdict.FAIL, _("The virus scanner failed."), failed[:5])
        return _result(
            Verdict.PASS,
            _("%(scanner)s found nothing in %(n)d files.")
            % {"scanner": antivirus.scanner_name(), "n": len(sub.files)},
        )
    scanner = shutil.which("clamdscan") or shutil.which("clamscan")
    if scanner is None:
        return _result(
            Verdict.SKIPPED,
            _(
                "Not configured: no virus scanner on this server (ClamAV: set "
                "DANGAN_CLAMAV_SOCKET or install clamdscan); no virus scan was made."
            ),
        )
    paths = [f.path for f in sub.files if f.path] + list(sub.scan_paths)
    if not paths:
        return _result(
            Verdict.SKIPPED, _("Skipped: the files are not on local disk for the scanner.")
        )
    answer = subprocess.run(
        [scanner, "--no-summary", "--infected", *paths], capture_output=True, text=True, check=False
    )
    if answer.returncode == 0:
        return _result(
            Verdict.PASS,
            _("%(scanner)s found nothing in %(n)d files.")
            % {"scanner": os.path.basename(scanner), "n": len(paths)},
        )
    if answer.returncode == 1:
        by_path = {f.path: f.name for f in sub.files if f.path}
        lines = []
        for line in answer.stdout.splitlines():
            path, _sep, finding = line.partition(": ")
            lines.append(f"{by_path.get(path, path)}: {finding}")
        return _result(Verdict.FAIL, _("Malicious content was found."), lines)
    return _result(Verdict.FAIL, _("The virus scanner failed."), answer.stderr.splitlines()[-5:])


def _foreign_files(sub, readings):
    if sub.extra:
        return _result(
            Verdict.FAIL, _("%(n)d file(s) are not in the list.") % {"n": len(sub.extra)}, sub.extra
        )
    return _result(Verdict.PASS, _("No file that is not in the list."))


AUTH, INTEG, USE, SEC = (
    Property.AUTHENTICITY,
    Property.INTEGRITY,
    Property.USABILITY,
    Property.SECURITY,
)
CHECKS = [
    Check("YJ-1-1", AUTH, gettext_lazy("File digests (SHA-256) match those sent"), _fixity_sha256),
    Check("YJ-1-2", AUTH, gettext_lazy("File digests (SM3) match those sent"), _fixity_sm3),
    Check("YJ-1-3", AUTH, gettext_lazy("The sender's signature is valid"), _signature),
    Check("YJ-1-4", AUTH, gettext_lazy("The package itself is unchanged"), _tag_files),
    Check("YJ-2-1", INTEG, gettext_lazy("Item count matches the list"), _item_count),
    Check("YJ-2-2", INTEG, gettext_lazy("Byte count matches the list"), _byte_count),
    Check("YJ-2-3", INTEG, gettext_lazy("Required metadata present and valid"), _metadata),
    Check("YJ-2-4", INTEG, gettext_lazy("Numbering of items and pages is continuous"), _numbering),
    Check("YJ-2-5", INTEG, gettext_lazy("Every file listed is present"), _completeness),
    Check("YJ-3-1", USE, gettext_lazy("Formats allowed for long-term keeping"), _formats),
    Check("YJ-4-1", SEC, gettext_lazy("Virus scan"), _virus_scan),
    Check("YJ-4-2", SEC, gettext_lazy("No foreign files"), _foreign_files),
]
CHECK_NAMES = {check.id: check.name for check in CHECKS}


def run_checks(submission: Submission, *, workers: int | None = None) -> Run:
    """Read every file once, then run every check; nothing is written."""
    started = time.perf_counter()
    # Items first, then the files: Python work beside the hashing threads would hold the GIL
    # they need between chunks and slow them far more than it saves.
    if callable(submission.items):
        submission.items = submission.items()
    readings = read_all(submission.files, with_sm3=submission.verify_sm3, workers=workers)
    outcomes = []
    for check in CHECKS:
        verdict, summary, evidence = check.run(submission, readings)
        outcomes.append(
            Outcome(
                check_id=check.id,
                property=check.property,
                name=str(check.name),
                verdict=verdict,
                summary=summary,
                evidence=evidence,
            )
        )
    return Run(
        outcomes=outcomes,
        items=len(submission.items),
        files=len(submission.files),
        bytes=sum(r.size for r in readings),
        seconds=time.perf_counter() - started,
    )
