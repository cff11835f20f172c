"""Classifying an incoming file (自动分类): which category, retention period and responsible unit
its title, responsible party and page text point to, learned from this archive's own catalogue.

The model is character n-grams (1 to 3 characters, TF-IDF, which needs no word segmentation for
Chinese and forgives OCR's stray characters) and a logistic regression per target (fitted by
stochastic gradient descent), trained by scikit-learn on the instance's records. On a fresh
instance, with no records yet, it learns from the category scheme itself: each category's name,
description, title pattern, metadata field labels and the kinds of record of its retention
schedule. It is trained again each week by the worker and by ``dangan classify --train``; it is
kept in the data directory (nothing is downloaded). A proposal below
``DANGAN_CLASSIFY_THRESHOLD`` is no proposal: ``category`` null.
"""

import datetime
import logging
import pickle
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from dangan.accounts.models import Unit
from dangan.catalogue.models import Category, Record
from dangan.digitize.models import PageProcessing
from dangan.search.analyzer import fold

logger = logging.getLogger(__name__)

#: The most records learned from per category (the newest), so a week's training stays short.
PER_CATEGORY = 3000
#: The characters of a page's text that count: the head of the first pages says what it is.
TEXT_CHARS = 600
#: Text with fewer letters than this says nothing (an empty page, OCR noise).
MIN_LETTERS = 2
#: Below this share of known character pairs and triples, the text is noise to the model.
MIN_KNOWN = 0.1
_LETTERS = re.compile(r"[\w]", re.UNICODE)
_FORMAT = 1


@dataclass
class Model:
    """What ``train`` made: one pipeline per target, and how it was made."""

    category: object = None  # a fitted pipeline, or None when there is nothing to choose
    retention: object = None
    unit: object = None
    categories: list[str] = field(default_factory=list)
    samples: int = 0
    source: str = ""  # "catalogue" or "scheme"
    trained_at: str = ""
    seconds: float = 0.0
    note: str = ""
    version: int = _FORMAT


@dataclass(frozen=True)
class Proposal:
    """Where a file belongs, or ``category`` None when the model is unsure (or has no choice)."""

    category: str | None
    retention: str | None
    unit: str | None
    confidence: float
    note: str = ""

    def as_json(self) -> dict:
        return {
            "category": self.category,
            "retention": self.retention,
            "confidence": round(self.confidence, 3),
        }


def model_path() -> Path:
    return Path(settings.DATA_DIR) / "assist" / "classifier.pickle"


def text_of(*, title="", responsible="", page_text="") -> str:
    """The text a file is classified by: title, responsible party and the head of its pages."""
    parts = [title or "", responsible or "", (page_text or "")[:TEXT_CHARS]]
    return fold(" ".join(p for p in parts if p)).strip()


def says_something(text: str) -> bool:
    """Whether ``text`` has letters enough to classify (not empty, not OCR noise of signs)."""
    return len(_LETTERS.findall(unicodedata.normalize("NFKC", text or ""))) >= MIN_LETTERS


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        # A logistic regression fitted by stochastic gradient descent: its probabilities are
        # the confidence; a fixed number of passes and seed, so a training is repeatable.
        SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=30, tol=None, random_state=0),
    )


def _fit(texts: list[str], labels: list) -> object | None:
    pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y]
    if len({y for _t, y in pairs}) < 2:
        return None
    pipeline = _pipeline()
    pipeline.fit([t for t, _y in pairs], [y for _t, y in pairs])
    return pipeline


def _scheme_samples() -> list[tuple[str, str, str | None]]:
    """(text, category code, retention) from the scheme: what a fresh instance knows."""
    samples = []
    leaves = Category.objects.filter(children__isnull=True).prefetch_related(
        "fields", "retention_rules"
    )
    for category in leaves:
        name_words = category.title_template.replace("{name}", "").replace("{year}", "")
        general = [category.name, category.description, name_words]
        general += [f.label for f in category.fields.all()]
        for line in filter(None, (g.strip() for g in general)):
            samples.append((fold(line), category.code, category.default_retention))
        for rule in category.retention_rules.all():
            samples.append(
                (fold(f"{rule.record_type} {category.name}"), category.code, rule.retention)
            )
    return samples


def _catalogue_samples(record_ids=None) -> list[tuple[str, str, str, str | None]]:
    """(text, category code, retention, unit code) of the newest records of each category."""
    records = Record.objects.exclude(state=Record.State.DESTROYED)
    if record_ids is not None:
        records = records.filter(pk__in=record_ids)
    units = dict(Unit.objects.values_list("pk", "code"))
    codes = dict(Category.objects.values_list("pk", "code"))
    rows = []
    for category_id in records.values_list("category_id", flat=True).distinct():
        newest = records.filter(category_id=category_id).order_by("-pk")[:PER_CATEGORY]
        rows += newest.values_list("pk", "title", "responsible", "retention", "unit_id")
    texts = _page_texts([row[0] for row in rows])
    by_pk = dict(records.filter(pk__in=[r[0] for r in rows]).values_list("pk", "category_id"))
    return [
        (
            text_of(title=title, responsible=responsible, page_text=texts.get(pk, "")),
            codes[by_pk[pk]],
            retention,
            units.get(unit_id),
        )
        for pk, title, responsible, retention, unit_id in rows
    ]


def _page_texts(record_ids: list[int]) -> dict[int, str]:
    """The head of the read text of each record's first page."""
    texts: dict[int, str] = {}
    for start in range(0, len(record_ids), 5000):
        chunk = record_ids[start : start + 5000]
        done = (
            PageProcessing.objects.filter(
                page__record_id__in=chunk, state=PageProcessing.State.DONE
            )
            .exclude(text="")
            .order_by("page__record_id", "page__position")
            .values_list("page__record_id", "text")
        )
        for record_id, text in done.iterator(chunk_size=2000):
            texts.setdefault(record_id, text[:TEXT_CHARS])
    return texts


def train(*, record_ids=None) -> Model:
    """Learn from the catalogue (``record_ids``: only those, for a held-out test), or from the
    scheme when there are no records yet; kept in the data directory. A catalogue of one
    category trains nothing: ``Model.note`` says so, and proposals stay empty."""
    clock = time.monotonic()
    rows = _catalogue_samples(record_ids)
    source = "catalogue"
    if not rows:
        rows = [(t, c, r, None) for t, c, r in _scheme_samples()]
        source = "scheme"
    texts = [row[0] for row in rows]
    categories = sorted({row[1] for row in rows})
    model = Model(
        categories=categories,
        samples=len(rows),
        source=source,
        trained_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    if len(categories) < 2:
        model.note = _(
            "The catalogue has records of one category only: there is nothing to choose "
            "between, and no file will be proposed a category."
        )
    else:
        model.category = _fit(texts, [row[1] for row in rows])
        model.retention = _fit(texts, [row[2] for row in rows])
        model.unit = _fit(texts, [row[3] for row in rows])
    model.seconds = round(time.monotonic() - clock, 2)
    _save(model)
    return model


def _save(model: Model) -> None:
    path = model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    partial.replace(path)  # whole or not at all
    _cache.clear()


_cache: dict = {}
_lock = threading.Lock()


def current_model() -> Model:
    """The kept model (read again when the file changed); trained at first use."""
    path = model_path()
    with _lock:
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp is not None and _cache.get("stamp") == (path, stamp):
            return _cache["model"]
        if stamp is None:
            model = train()
            stamp = path.stat().st_mtime_ns
        else:
            model = pickle.loads(path.read_bytes())  # our own file, written by _save
            if getattr(model, "version", 0) != _FORMAT:
                model = train()
                stamp = path.stat().st_mtime_ns
        _cache.update(stamp=(path, stamp), model=model)
        return model


def known_share(pipeline, text: str) -> float:
    """The share of the text's character pairs and triples the model has ever seen: OCR noise
    and gibberish are made of pairs no file of the archive contains."""
    vectorizer = pipeline.steps[0][1]
    grams = [g for g in vectorizer.build_analyzer()(text) if len(g.strip()) >= 2]
    if not grams:
        return 0.0
    return sum(g in vectorizer.vocabulary_ for g in grams) / len(grams)


def _best(pipeline, text: str) -> tuple[str | None, float]:
    if pipeline is None:
        return None, 0.0
    probabilities = pipeline.predict_proba([text])[0]
    best = int(probabilities.argmax())
    return str(pipeline.classes_[best]), float(probabilities[best])


def classify(*, title="", responsible="", page_text="", text=None) -> Proposal:
    """Where a file with this title, responsible party and page text belongs."""
    if text is None:
        text = text_of(title=title, responsible=responsible, page_text=page_text)
    text = fold(text)
    if not says_something(text):
        return Proposal(None, None, None, 0.0, _("The text says nothing to classify by."))
    model = current_model()
    if model.category is None:
        return Proposal(None, None, None, 0.0, model.note)
    if known_share(model.category, text) < MIN_KNOWN:
        return Proposal(None, None, None, 0.0, _("The text says nothing to classify by."))
    category, confidence = _best(model.category, text)
    if confidence < settings.DANGAN_CLASSIFY_THRESHOLD:
        return Proposal(None, None, None, confidence, _("Not sure enough to propose a category."))
    retention, _r = _best(model.retention, text)
    unit, unit_confidence = _best(model.unit, text)
    if unit_confidence < settings.DANGAN_CLASSIFY_THRESHOLD:
        unit = None
    return Proposal(category, retention, unit, confidence)


def classify_many(texts: list[str]) -> list[Proposal]:
    """``classify`` for many texts at once (one pass of the model: a list of a thousand
    hand-over items is classified in a moment)."""
    model = current_model()
    texts = [fold(t or "") for t in texts]
    proposals: list[Proposal | None] = [None] * len(texts)
    ask = [
        i
        for i, t in enumerate(texts)
        if model.category is not None
        and says_something(t)
        and known_share(model.category, t) >= MIN_KNOWN
    ]
    if ask:
        batch = [texts[i] for i in ask]
        categories = model.category.predict_proba(batch)
        retentions = model.retention.predict_proba(batch) if model.retention else None
        for row, i in enumerate(ask):
            best = int(categories[row].argmax())
            confidence = float(categories[row][best])
            if confidence < settings.DANGAN_CLASSIFY_THRESHOLD:
                continue
            retention = (
                str(model.retention.classes_[int(retentions[row].argmax())])
                if retentions is not None
                else None
            )
            proposals[i] = Proposal(str(model.category.classes_[best]), retention, None, confidence)
    return [p or Proposal(None, None, None, 0.0) for p in proposals]
