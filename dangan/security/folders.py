"""Walking a folder of scans for ingest without leaving it: no ``..``, no symbolic link (or
junction) that points outside the root, no device files or pipes.

``safe_walk(root)`` yields the regular files under ``root`` as absolute, resolved paths, in a
stable order, and raises ``UnsafePath`` at the first entry that would escape. Links that stay
inside the root are followed once (a loop is not followed twice).
"""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _


class UnsafePath(Exception):
    """An entry of the folder points outside it, or is not a plain file or folder."""


def safe_walk(root) -> Iterator[Path]:
    base = Path(root).resolve(strict=True)
    if not base.is_dir():
        raise UnsafePath(_("%(path)s is not a folder.") % {"path": root})
    seen: set[tuple[int, int]] = set()
    stack = [base]
    while stack:
        folder = stack.pop()
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as entries:
            children = sorted(entries, key=lambda e: e.name)
        subfolders = []
        for entry in children:
            path = Path(entry.path)
            resolved = path.resolve()
            if not resolved.is_relative_to(base):
                raise UnsafePath(
                    _("%(path)s points outside %(root)s; it was not read.")
                    % {"path": path, "root": base}
                )
            try:
                mode = resolved.stat().st_mode
            except OSError:
                raise UnsafePath(
                    _("%(path)s is a broken link; it was not read.") % {"path": path}
                ) from None
            if stat.S_ISDIR(mode):
                subfolders.append(resolved)
            elif stat.S_ISREG(mode):
                yield resolved
            else:
                raise UnsafePath(
                    _("%(path)s is not a plain file; it was not read.") % {"path": path}
                )
        stack.extend(reversed(subfolders))
