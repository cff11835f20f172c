"""The ``dangan`` command: Django's management commands under the operator's own name.

``dangan run``, ``dangan demo``, ``dangan import-catalogue`` … — a dash in the name is the
underscore of the management command (``import-catalogue`` runs ``import_catalogue``).
"""

import os
import sys


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
