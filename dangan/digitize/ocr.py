"""Optical character recognition (光学字符识别) of scanned pages, behind one engine interface.

``rapidocr`` 3.x is the engine: its PP-OCR models ship inside the wheel, so it runs offline, and
one model reads simplified and traditional characters alike. Tesseract (Debian's
``tesseract-ocr-chi-sim`` and ``tesseract-ocr-chi-tra``) can stand in where it is installed.
Whatever the engine, a page comes back as a ``PageText``: its lines, each with the box it was read
from and the engine's confidence, so that a searchable PDF can put the text where it was seen.
"""

import csv
import functools
import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

_EXIF_ORIENTATION = 0x0112

# A corner of a text box, in pixels of the page image: (x, y) with y downwards.
Point = tuple[float, float]


@dataclass(frozen=True)
class TextLine:
    """One line of text as read, with its box (four corners, clockwise from top left)."""

    text: str
    box: tuple[Point, Point, Point, Point]
    confidence: float

    @property
    def top(self) -> float:
        return min(y for _x, y in self.box)

    @property
    def bottom(self) -> float:
        return max(y for _x, y in self.box)

    @property
    def left(self) -> float:
        return min(x for x, _y in self.box)


@dataclass(frozen=True)
class PageText:
    """What an engine read on one page, in reading order."""

    width: int
    height: int
    lines: tuple[TextLine, ...]
    engine: str = ""

    @property
    def rows(self) -> list[list[TextLine]]:
        """Lines grouped into rows: boxes that overlap vertically by half their height."""
        rows: list[list[TextLine]] = []
        for line in sorted(self.lines, key=lambda item: (item.top, item.left)):
            if rows:
                last = rows[-1][-1]
                overlap = min(last.bottom, line.bottom) - max(last.top, line.top)
                if overlap > 0.5 * min(last.bottom - last.top, line.bottom - line.top):
                    rows[-1].append(line)
                    continue
            rows.append([line])
        return [sorted(row, key=lambda item: item.left) for row in rows]

    @property
    def text(self) -> str:
        """The page's text, one row a line, the parts of a row separated by a space."""
        return "\n".join(" ".join(line.text for line in row) for row in self.rows)

    @property
    def confidence(self) -> float:
        """Mean confidence over characters; 0 for a page with no text."""
        chars = sum(len(line.text) for line in self.lines)
        if not chars:
            return 0.0
        return sum(line.confidence * len(line.text) for line in self.lines) / chars

    def as_dict(self) -> dict:
        """A JSON-ready form, to keep with the page."""
        return {
            "width": self.width,
            "height": self.height,
            "engine": self.engine,
            "lines": [
                {
                    "text": line.text,
                    "box": [list(point) for point in line.box],
                    "confidence": line.confidence,
                }
                for line in self.lines
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "PageText":
        lines = tuple(
            TextLine(
                text=item["text"],
                box=tuple(tuple(point) for point in item["box"]),
                confidence=float(item["confidence"]),
            )
            for item in data.get("lines", [])
        )
        return cls(
            width=int(data["width"]),
            height=int(data["height"]),
            lines=lines,
            engine=data.get("engine", ""),
        )


class OcrEngine(Protocol):
    """What every OCR engine offers: read one page image."""

    name: str

    def recognize(self, image) -> PageText:
        """Read ``image`` (a path, bytes, a PIL image or a numpy array) into a ``PageText``."""
        ...


def load_image(image, *, draft: int | None = None) -> Image.Image:
    """A PIL image from a path, bytes, a PIL image or a numpy array, turned upright by EXIF.

    ``draft``: a JPEG may be decoded at a reduced scale, down to about this many pixels a side
    (much faster, for thumbnails).
    """
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, np.ndarray):
        return Image.fromarray(image)
    if isinstance(image, bytes | bytearray | memoryview):
        opened = Image.open(io.BytesIO(bytes(image)))
    else:
        opened = Image.open(Path(image))
    if draft and opened.format == "JPEG":
        opened.draft(opened.mode, (draft, draft))
    opened.load()
    if opened.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        return ImageOps.exif_transpose(opened)
    return opened


class RapidOcrEngine:
    """PP-OCR models through onnxruntime (``rapidocr`` 3.x), offline.

    ``threads`` is onnxruntime's thread count for one page (0: as many as it likes). A pool of
    worker processes should give each one thread, so that the cores read different pages.
    ``detection_side`` bounds the longer side of the image the text detector sees: text boxes
    are found on a reduced page (480 px finds every line of a 200 dpi A4 page, with less than
    half the CPU of 736 px), while the lines themselves are cut from the page as scanned.
    Lines are recognised one at a time: in a batch every line is padded to the longest one's
    width, which on a register page (short labels beside long rows) cost a quarter more CPU.
    """

    name = "rapidocr"

    def __init__(self, *, threads: int = 0, detection_side: int = 480):
        from rapidocr import RapidOCR  # imported here: loading onnxruntime takes a moment

        threads = threads if threads > 0 else -1
        self._ocr = RapidOCR(
            params={
                "Global.log_level": "warning",
                # Scanned pages are upright; the 180° line classifier would only cost time.
                "Global.use_cls": False,
                "Det.limit_type": "max",
                "Det.limit_side_len": detection_side,
                "Rec.rec_batch_num": 1,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
            }
        )

    def recognize(self, image) -> PageText:
        picture = load_image(image).convert("RGB")
        result = self._ocr(np.asarray(picture))
        lines = []
        for text, box, score in zip(
            result.txts or (), _boxes(result.boxes), result.scores or (), strict=True
        ):
            if text.strip():
                lines.append(
                    TextLine(text=text.strip(), box=box, confidence=round(float(score), 4))
                )
        return PageText(
            width=picture.width, height=picture.height, lines=tuple(lines), engine=self.name
        )


def _boxes(boxes) -> list[tuple[Point, Point, Point, Point]]:
    if boxes is None:
        return []
    return [tuple((round(float(x), 1), round(float(y), 1)) for x, y in box) for box in boxes]


class TesseractEngine:
    """Tesseract (``tesseract`` on the PATH with the ``chi_sim`` and ``chi_tra`` data)."""

    name = "tesseract"

    def __init__(self, *, languages: str = "chi_sim+chi_tra", threads: int = 0):
        self.command = shutil.which("tesseract")
        if not self.command:
            raise ImproperlyConfigured(
                _(
                    "The OCR engine “tesseract” is not installed: install the Debian packages "
                    "tesseract-ocr, tesseract-ocr-chi-sim and tesseract-ocr-chi-tra, or set "
                    "DANGAN_OCR_ENGINE=rapidocr."
                )
            )
        self.languages = languages
        self.threads = threads

    @classmethod
    def available(cls) -> bool:
        return shutil.which("tesseract") is not None

    def recognize(self, image) -> PageText:
        picture = load_image(image).convert("L")
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        env = {"OMP_THREAD_LIMIT": str(self.threads)} if self.threads > 0 else None
        completed = subprocess.run(
            [self.command, "stdin", "stdout", "-l", self.languages, "--psm", "3", "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            check=True,
            env=env,
        )
        return PageText(
            width=picture.width,
            height=picture.height,
            lines=tuple(_tesseract_lines(completed.stdout.decode("utf-8"))),
            engine=self.name,
        )


def _tesseract_lines(tsv: str) -> list[TextLine]:
    """Join Tesseract's words (TSV level 5) into lines; Chinese words join without spaces."""
    lines: dict[tuple, list[dict]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") == "5" and (row.get("text") or "").strip():
            key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
            lines.setdefault(key, []).append(row)
    result = []
    for words in lines.values():
        left = min(int(w["left"]) for w in words)
        top = min(int(w["top"]) for w in words)
        right = max(int(w["left"]) + int(w["width"]) for w in words)
        bottom = max(int(w["top"]) + int(w["height"]) for w in words)
        text = ""
        for word in words:
            piece = word["text"].strip()
            if text and text[-1].isascii() and piece[:1].isascii():
                text += " "
            text += piece
        confidence = round(sum(float(w["conf"]) for w in words) / len(words) / 100, 4)
        result.append(
            TextLine(
                text=text,
                box=((left, top), (right, top), (right, bottom), (left, bottom)),
                confidence=confidence,
            )
        )
    return result


ENGINES = {"rapidocr": RapidOcrEngine, "tesseract": TesseractEngine}


@functools.cache
def get_engine(name: str | None = None, *, threads: int | None = None) -> OcrEngine:
    """The engine called ``name`` (default: ``settings.DANGAN_OCR_ENGINE``), one per process.

    Loading the models takes a moment and some memory, so each process keeps its engine.
    """
    from django.conf import settings

    name = name or settings.DANGAN_OCR_ENGINE
    if threads is None:
        threads = settings.DANGAN_OCR_THREADS
    try:
        engine_class = ENGINES[name]
    except KeyError:
        raise ImproperlyConfigured(
            _("Unknown OCR engine “%(name)s”; choose one of: %(choices)s.")
            % {"name": name, "choices": ", ".join(ENGINES)}
        ) from None
    return engine_class(threads=threads)
