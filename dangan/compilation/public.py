"""An exhibition as the public sees it: texts in the visitor's language, nothing of a record that
is not open now, no ID number, and no private person's name unless the exhibit marks consent.

``shown_exhibition`` builds plain objects for the page from ``selectors.shown_exhibits`` (the
open catalogue, asked at this moment). Every text that reaches the page — the exhibition's and
the sections' texts, the captions, the records' titles — goes through ``portal.masking``: ID
numbers always masked, the record's persons' names masked unless the exhibit marks consent.
"""

import functools
from dataclasses import dataclass, field

import opencc
from django.utils.translation import get_language

from dangan.people.models import RecordPerson
from dangan.portal.masking import mask_text

from . import selectors
from .models import Exhibit, Exhibition


@functools.cache
def _to_traditional():
    return opencc.OpenCC("s2t")


def language_suffix() -> str:
    """The field suffix of the visitor's language: ``zh_hans``, ``zh_hant`` or ``en``."""
    language = (get_language() or "zh-hans").lower()
    if language.startswith("en"):
        return "en"
    if language in ("zh-hant", "zh-tw", "zh-hk", "zh-mo"):
        return "zh_hant"
    return "zh_hans"


def in_language(obj, prefix: str) -> str:
    """``obj``'s text ``prefix`` in the visitor's language: traditional Chinese made from the
    simplified when the editor wrote none, English falling back to the simplified."""
    suffix = language_suffix()
    text = getattr(obj, f"{prefix}_{suffix}", "")
    if text:
        return text
    simplified = getattr(obj, f"{prefix}_zh_hans", "")
    if suffix == "zh_hant" and simplified:
        return _to_traditional().convert(simplified)
    return simplified


@dataclass
class ShownExhibit:
    pk: int
    title: str
    archival_code: str
    year: int
    caption: str
    has_image: bool


@dataclass
class ShownSection:
    title: str
    text: str
    exhibits: list = field(default_factory=list)


@dataclass
class ShownExhibition:
    slug: str
    title: str
    intro: str
    published_at: object
    sections: list = field(default_factory=list)


def _names(record_ids) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    links = RecordPerson.objects.filter(record_id__in=list(record_ids))
    for record_id, name in links.values_list("record_id", "person__name"):
        names.setdefault(record_id, []).append(name)
    return names


def _with_preview(page_ids) -> set[int]:
    """The pages among ``page_ids`` whose preview the scanning pipeline has made."""
    from dangan.digitize.models import PageProcessing

    return set(
        PageProcessing.objects.filter(
            page_id__in=[p for p in page_ids if p], preview__isnull=False
        ).values_list("page_id", flat=True)
    )


def _shown(exhibit: Exhibit, names, previews) -> ShownExhibit:
    masked = [] if exhibit.consent else names.get(exhibit.record_id, [])
    return ShownExhibit(
        pk=exhibit.pk,
        title=mask_text(exhibit.record.title, masked),
        archival_code=exhibit.archival_code,
        year=exhibit.record.year,
        caption=mask_text(in_language(exhibit, "caption"), masked),
        has_image=exhibit.page_id in previews,
    )


def shown_exhibition(exhibition: Exhibition) -> ShownExhibition:
    """The exhibition's page: its sections (empty ones left out) with the exhibits shown now."""
    exhibits = list(selectors.shown_exhibits(exhibition))
    names = _names({e.record_id for e in exhibits})
    previews = _with_preview({e.page_id for e in exhibits})
    shown = ShownExhibition(
        slug=exhibition.slug,
        title=mask_text(in_language(exhibition, "title")),
        intro=mask_text(in_language(exhibition, "intro")),
        published_at=exhibition.published_at,
    )
    sections = {}
    for exhibit in exhibits:
        section = exhibit.section
        if section.pk not in sections:
            sections[section.pk] = ShownSection(
                title=mask_text(in_language(section, "title")),
                text=mask_text(in_language(section, "text")),
            )
            shown.sections.append(sections[section.pk])
        sections[section.pk].exhibits.append(_shown(exhibit, names, previews))
    return shown


def shown_list() -> list[dict]:
    """The published exhibitions for the public list: address, title, introduction, date."""
    return [
        {
            "slug": e.slug,
            "title": mask_text(in_language(e, "title")),
            "intro": mask_text(in_language(e, "intro")),
            "published_at": e.published_at,
        }
        for e in selectors.published_exhibitions()
    ]
