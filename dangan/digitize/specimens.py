"""Specimen pages (样张): A4 pages rendered with known text, to measure and test the OCR.

A register page as the bureau prints it — a title, labelled fields, a paragraph, a signature
line — in simplified or traditional characters, optionally turned slightly and soiled with
noise as a worn page on a flatbed scanner. The tests, ``bench/ocr.py`` and demonstrations use
them; nothing here is needed to digitize real pages.
"""

import io
import os
import random
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from dangan.people.id_numbers import upgrade_15

FONT_DIR = "/usr/share/fonts/opentype/noto"
A4_MM = (210, 297)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "英秀凤华明国建平志春兰芳桂玉海军红霞丽云金福德荣文斌长永林梅杰涛敏静"
_UNITS = [
    "建湖县第二轻工业公司",
    "近湖镇农具厂",
    "县农机修造厂",
    "县供销合作社",
    "上冈镇粮食管理所",
    "县人民医院",
    "县纺织厂",
    "县第一中学",
    "冈东乡人民政府",
    "县交通运输局",
]
_TITLES = [
    "失业人员档案托管登记表",
    "城乡居民基本养老保险参保登记表",
    "工人技术等级考核鉴定表",
    "职工退休审批表",
    "企业职工养老保险缴费基数核定表",
    "劳动合同鉴证登记表",
]
_SENTENCES = [
    "本人于{y1}年{m1}月与原单位解除劳动关系，档案转入县人才交流中心托管。",
    "托管期间按规定缴纳社会保险费，每年{amount}元，由镇人社服务中心代办。",
    "该同志参加电工技术等级考核，理论考试{s1}分，实际操作{s2}分，评定为高级工。",
    "经审核，该同志连续工龄{years}年，符合按月领取基本养老金的条件。",
    "参保人自愿参加城乡居民基本养老保险，选择缴费档次为每年{amount}元。",
    "以上情况属实，如有虚报，本人愿意承担相应的法律责任。",
    "请于接到通知后十五个工作日内到县档案馆办理查阅手续，逾期不再另行通知。",
]


@dataclass(frozen=True)
class Specimen:
    """A page's lines of text (first the title) and whether they are traditional characters."""

    lines: tuple[str, ...]
    traditional: bool

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@cache
def _converter():
    import opencc

    # Taiwan forms (為, 綫→線): what printed traditional pages and the OCR models use.
    return opencc.OpenCC("s2tw")


def make_specimen(seed: int, *, traditional: bool = False) -> Specimen:
    """A plausible register page, the same for the same seed."""
    rng = random.Random(seed)
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    birth = (rng.randint(1940, 1975), rng.randint(1, 12), rng.randint(1, 28))
    id_number = upgrade_15(
        f"320925{birth[0] % 100:02d}{birth[1]:02d}{birth[2]:02d}{rng.randint(0, 999):03d}"
    )
    signed = (rng.randint(1985, 2015), rng.randint(1, 12), rng.randint(1, 28))
    values = {
        "y1": signed[0],
        "m1": signed[1],
        "amount": rng.choice((100, 300, 500, 800, 1000)),
        "s1": rng.randint(60, 99),
        "s2": rng.randint(60, 99),
        "years": rng.randint(10, 40),
    }
    paragraph = [s.format(**values) for s in rng.sample(_SENTENCES, 3)]
    lines = [
        rng.choice(_TITLES),
        f"姓名：{name}　　性别：{rng.choice('男女')}",
        f"公民身份号码：{id_number}",
        f"出生日期：{birth[0]}年{birth[1]}月{birth[2]}日",
        f"工作单位：{rng.choice(_UNITS)}",
        f"参加工作时间：{birth[0] + rng.randint(16, 22)}年{rng.randint(1, 12)}月",
        *_wrap(paragraph, 27),
        f"建湖县人力资源和社会保障局　{signed[0]}年{signed[1]}月{signed[2]}日",
    ]
    if traditional:
        lines = [_converter().convert(line) for line in lines]
    return Specimen(lines=tuple(lines), traditional=traditional)


def _wrap(sentences: list[str], width: int) -> list[str]:
    text = "".join(sentences)
    return [text[i : i + width] for i in range(0, len(text), width)]


@cache
def font(kind: str, size: int, traditional: bool) -> ImageFont.FreeTypeFont:
    """Noto CJK (``fonts-noto-cjk``) at ``size`` px: bold sans for a ``title``, serif otherwise.
    Where Debian keeps it, else wherever fontconfig finds it (``fc-match``)."""
    # Index 2 is the SC face, 3 the TC face in Noto's collections.
    path = f"{FONT_DIR}/{'NotoSansCJK-Bold' if kind == 'title' else 'NotoSerifCJK-Regular'}.ttc"
    index = 3 if traditional else 2
    if not os.path.exists(path) and shutil.which("fc-match"):
        family = "Noto Sans CJK" if kind == "title" else "Noto Serif CJK"
        pattern = f"{family} {'TC' if traditional else 'SC'}" + (":bold" if kind == "title" else "")
        found = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}|%{family}", pattern],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        file, _sep, rest = found.partition("|")
        if "CJK" in rest:
            path, index = file, int(rest.partition("|")[0] or 0)
    return ImageFont.truetype(path, size, index=index)


def render_specimen(
    specimen: Specimen, *, dpi: int = 200, angle: float = 0.0, noise: float = 0.0, seed: int = 0
) -> Image.Image:
    """The specimen as a grayscale A4 scan at ``dpi``, turned ``angle`` degrees (counter-
    clockwise) and soiled by ``noise`` (0 clean, 1 a poor scan)."""
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    point = dpi / 72
    title_font = font("title", round(18 * point), specimen.traditional)
    body_font = font("body", round(12 * point), specimen.traditional)
    title, *body = specimen.lines
    title_width = draw.textlength(title, font=title_font)
    y = round(25 / 25.4 * dpi)
    draw.text(((width - title_width) / 2, y), title, font=title_font, fill=20)
    y += round(30 * point)
    left = round(25 / 25.4 * dpi)
    for line in body:
        y += round(12 * point * 1.9)
        if line.startswith("建湖"):  # the signature line sits to the right
            y += round(24 * point)
            x = width - left - draw.textlength(line, font=body_font)
        else:
            x = left
        draw.text((x, y), line, font=body_font, fill=25)
    if angle:
        page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if noise:
        page = soil(page, noise, seed)
    page.info["dpi"] = (dpi, dpi)
    return page


def soil(page: Image.Image, noise: float, seed: int) -> Image.Image:
    """``page`` as a worn page through a cheap scanner: blur, grey paper, grain, specks, JPEG."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(page.filter(ImageFilter.GaussianBlur(0.6 * noise)), dtype=np.float32)
    pixels = pixels * (0.92 + 0.05 * rng.random()) + 10 * noise  # greyish paper, faded ink
    pixels += rng.normal(0, 14 * noise, pixels.shape)
    specks = rng.random(pixels.shape) < 0.002 * noise
    pixels[specks] = rng.integers(0, 120, int(specks.sum()))
    soiled = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    soiled.save(buffer, format="JPEG", quality=max(40, round(85 - 30 * noise)))
    return Image.open(buffer)


def specimen_jpeg(image: Image.Image, *, quality: int = 85) -> bytes:
    """The page as the JPEG file a scanner would write, with its resolution."""
    buffer = io.BytesIO()
    image.convert("L").save(
        buffer, format="JPEG", quality=quality, dpi=image.info.get("dpi", (200, 200))
    )
    return buffer.getvalue()


def character_accuracy(expected: str, read: str) -> float:
    """1 − (edit distance ÷ length of ``expected``), whitespace ignored, full-width folded."""

    def squeeze(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())

    a, b = squeeze(expected), squeeze(read)
    if not a:
        return 1.0 if not b else 0.0
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return max(0.0, 1 - previous[-1] / len(a))
