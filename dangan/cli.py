"""The ``dangan`` command: Django's management commands under the operator's own name.

``dangan run``, ``dangan demo``, ``dangan import-catalogue`` … — a dash in the name is the
underscore of the management command (``import-catalogue`` runs ``import_catalogue``).

A command that fails ends with exit status 1 and one line on stderr that says what failed,
never a traceback; ``--traceback`` shows where (Django's own option, for the engineer).
"""

import os
import sys


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise SystemExit(130) from None
    except Exception as error:
        if "--traceback" in argv:
            raise
        command = argv[1].replace("_", "-") if len(argv) > 1 else ""
        sys.stderr.write(failure_line(command, error) + "\n")
        raise SystemExit(1) from None


def failure_line(command: str, error: Exception) -> str:
    """One line for an operator: the command, what failed (ID numbers masked), and how to see
    where."""
    from dangan.security.logmasking import mask_id_numbers

    messages = getattr(error, "messages", None) or [str(error) or type(error).__name__]
    text = " ".join(" ".join(str(m) for m in messages).split())  # one line
    if not getattr(error, "messages", None):
        text = f"{type(error).__name__}: {text}"
    return mask_id_numbers(f"dangan {command}: {text} (--traceback shows where)")


if __name__ == "__main__":
    main()
