"""Zip bombs: a ZIP-based upload (an Excel register, an OFD document) is opened only after its
central directory shows that it unpacks to a sane size, at a sane ratio, with few enough members.

openpyxl and the OFD reader trust the archive; a 40 kB .xlsx can hold a sheet that unpacks to
gigabytes. ``check_zip`` reads only the directory (no decompression) and raises a
``ValidationError`` that names the file. Call it before handing a file to openpyxl or zipfile.
"""

import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def check_zip(file, *, name: str = "") -> None:
    """Refuse ``file`` (a path or a seekable binary file) if it is a zip bomb, or not a ZIP."""
    limits = settings.DANGAN_ZIP_LIMITS
    label = name or str(getattr(file, "name", file))
    position = file.tell() if hasattr(file, "tell") else None
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ValidationError(
            _("“%(name)s” is not a readable ZIP-based file (xlsx, OFD)."),
            code="not_zip",
            params={"name": label},
        ) from None
    finally:
        if position is not None:
            file.seek(position)
    if len(members) > limits["members"]:
        raise _bomb(label)
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > limits["unpacked_bytes"]:
        raise _bomb(label)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > limits["ratio"]:
            raise _bomb(label)
    if unpacked > 1024 * 1024 and unpacked / packed > limits["ratio"]:
        raise _bomb(label)


def _bomb(label):
    return ValidationError(
        _(
            "“%(name)s” unpacks to far more than it holds (a “zip bomb”) and was refused. "
            "Save the file anew from Excel or the OFD program and upload it again."
        ),
        code="zip_bomb",
        params={"name": label},
    )
