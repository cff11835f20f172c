"""The kinds of background job, registered by the apps that build them.

An app above declares what it builds::

    @job_kind("stats.annual_report", label=_("Annual report"), suffix=".pdf")
    def build_annual_report(job, out, progress):
        ...  # write the file to ``out``; call progress(done, total) now and then

and imports that module in its ``AppConfig.ready()``. The builder gets the job (its ``params``
and ``owner``), a binary file to write to, and ``progress(done, total)``. It raises
``ValidationError`` with a translated message for a reason the user should read; any other
exception is reported as a failure of the work, with its details only in the log.

``page`` (optional): ``page(job)`` is the address of the app's own page for the job (a register
import's outcome), linked from the job's page.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    #: The download's file ending, with the dot: ".xlsx".
    suffix: str
    build: Callable
    content_type: str = "application/octet-stream"
    page: Callable | None = None


_KINDS: dict[str, JobKind] = {}

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".csv": "text/csv; charset=utf-8",
    ".zip": "application/zip",
    ".json": "application/json",
}


def job_kind(
    name: str, *, label, suffix: str, content_type: str | None = None, page: Callable | None = None
):
    """Register the decorated function as the builder of jobs of kind ``name``."""

    def register(build: Callable) -> Callable:
        _KINDS[name] = JobKind(
            name=name,
            label=label,
            suffix=suffix,
            build=build,
            content_type=content_type or CONTENT_TYPES.get(suffix, "application/octet-stream"),
            page=page,
        )
        return build

    return register


def kind(name: str) -> JobKind:
    """The registered kind ``name``; ``LookupError`` if no app registered it."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(name) from None
