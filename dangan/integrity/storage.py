"""Storage monitoring: free space and readability of every place the archive keeps data.

The places are the content store (a local folder, or a bucket whose free space the object store
keeps to itself), ``DANGAN_DATA_DIR`` (the SQLite database, the ledger's key, imports) and, for
SQLite, the folder of the database file. A place whose free space falls under
``DANGAN_STORAGE_MIN_FREE_PERCENT`` or ``DANGAN_STORAGE_MIN_FREE_GB``, or that cannot be read
and written, raises an alert (``alerts.raise_alert``). The fixity audit runs this check at each
round; ``dangan fixity --json`` prints it.
"""

import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from dangan.content.stores import LocalStore, get_store

from .alerts import raise_alert
from .models import StorageAlert

GB = 1000**3


def _places() -> list[tuple[str, object]]:
    """(name, local path or the store) of each place to watch, each folder once."""
    places, seen = [], set()

    def add(name, path):
        path = Path(path).resolve()
        if path not in seen:
            seen.add(path)
            places.append((name, path))

    store = get_store()
    if isinstance(store, LocalStore):
        add("content", store.root)
    else:
        places.append(("content", store))
    add("data", settings.DATA_DIR)
    if connection.vendor == "sqlite":
        add("database", Path(connection.settings_dict["NAME"]).parent)
    return places


def _probe(path: Path) -> str:
    """Empty when ``path`` can be listed and written; else what went wrong."""
    try:
        os.listdir(path)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".dangan-probe-"):
            pass
    except OSError as error:
        return f"{type(error).__name__}: {error.strerror or error}"
    return ""


def _bucket_probe(store) -> str:
    try:
        store.client.head_bucket(Bucket=store.bucket)
    except Exception as error:  # botocore raises many kinds; any of them means unreadable
        return f"{type(error).__name__}: {error}"
    return ""


def storage_status() -> list[dict]:
    """One dict per place: name, where, total/free bytes, free percent, problem ("" if none)."""
    min_percent = settings.DANGAN_STORAGE_MIN_FREE_PERCENT
    min_bytes = settings.DANGAN_STORAGE_MIN_FREE_GB * GB
    status = []
    for name, place in _places():
        if not isinstance(place, Path):
            problem = _bucket_probe(place)
            status.append(
                {"name": name, "where": str(place), "total": None, "free": None,
                 "free_percent": None, "low": False, "problem": problem}
            )  # fmt: skip
            continue
        problem = _probe(place) if place.exists() else _("folder does not exist")
        total = free = percent = None
        low = False
        if place.exists():
            usage = shutil.disk_usage(place)
            total, free = usage.total, usage.free
            percent = round(100 * free / total, 1) if total else 0.0
            low = percent < min_percent or free < min_bytes
        status.append(
            {"name": name, "where": str(place), "total": total, "free": free,
             "free_percent": percent, "low": low, "problem": problem}
        )  # fmt: skip
    return status


def check_storage() -> list[dict]:
    """Measure every place and raise an alert for each that is short of space or unreadable."""
    status = storage_status()
    for place in status:
        if place["problem"]:
            raise_alert(
                kind=StorageAlert.Kind.STORE_UNREADABLE,
                subject=f"{place['name']}:{place['where']}",
                message=_("%(where)s cannot be read or written: %(problem)s")
                % {"where": place["where"], "problem": place["problem"]},
                details=place,
            )
        if place["low"]:
            raise_alert(
                kind=StorageAlert.Kind.LOW_SPACE,
                subject=f"{place['name']}:{place['where']}",
                message=_("Only %(free).1f GB (%(percent)s%%) free at %(where)s.")
                % {
                    "free": place["free"] / GB,
                    "percent": place["free_percent"],
                    "where": place["where"],
                },
                details=place,
            )
    return status
