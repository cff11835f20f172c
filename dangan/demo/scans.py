"""Scanned forms for the demo (演示扫描件): the pages a county bureau keeps in a person's file,
drawn for the demo's own persons and read by the real OCR pipeline.

A 职工退休审批表 with its 养老保险待遇审批表, an older 職工退休審批表 in traditional characters,
a 失业人员登记表, a 工人技術等級考核鑑定表 and a 城乡居民养老保险参保登记表: ruled tables with the
person's name, ID number, dates and unit as the catalogue has them, an opinion and the signing
office. Some are turned a degree or two, some soiled like a worn page on a cheap scanner; one is
filed in the wrong person's record, so that the page check has a mismatch to show. Everything is
drawn from a seed, so the same demo gives the same pages.

The Chinese in this module is data (forms, labels, opinions), not user-facing text.
"""

import datetime
import io
import random
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw

from dangan.digitize.specimens import A4_MM, font, soil

#: Scanning resolution: DA/T 31's minimum, so the image checks find nothing to warn about.
DPI = 200
SEXES = {"M": "男", "F": "女"}


@dataclass(frozen=True)
class Form:
    """One filled-in form: rows of (label, value) cells, an opinion, the office that signed."""

    title: str
    rows: tuple[tuple[tuple[str, str], ...], ...]
    opinion_label: str
    opinion: str
    signer: str
    signed: datetime.date
    traditional: bool = False
    angle: float = 0.0
    noise: float = 0.0

    @property
    def text(self) -> str:
        """What is printed on the page, as written (simplified even for a traditional page)."""
        cells = [f"{label}{value}" for row in self.rows for label, value in row]
        return "\n".join(
            [self.title, *cells, self.opinion_label, self.opinion, self.signer, _date(self.signed)]
        )


@cache
def _traditional():
    import opencc

    return opencc.OpenCC("s2tw")  # the forms printed in traditional characters, as specimens


def _date(date: datetime.date | None) -> str:
    return f"{date.year}年{date.month}月{date.day}日" if date else ""


def _month(value: str) -> str:
    """``1987-03`` or ``1987-03-14`` as a form writes it: 1987年3月."""
    if not value:
        return ""
    year, month = value.split("-")[:2]
    return f"{year}年{int(month)}月"


def _iso(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _birth(person) -> str:
    return _date(person.birth_date)


# --- the forms --------------------------------------------------------------------------------


def retirement(person, record, *, rng: random.Random, **look) -> Form:
    """职工退休审批表 of a retirement file (TX)."""
    meta = record.metadata
    retired = _iso(meta.get("retire_date")) or record.date
    return Form(
        title="职工退休审批表",
        rows=(
            (("姓名", person.name), ("性别", SEXES[person.sex])),
            (("出生日期", _birth(person)), ("参加工作时间", _month(meta.get("work_start", "")))),
            (("公民身份号码", person.id_number),),
            (("工作单位", meta.get("work_unit", "")),),
            (("退休类别", meta.get("retire_type", "正常退休")), ("退休时间", _month(str(retired)))),
            (("备注", "工龄连续计算，档案齐全"),),
        ),
        opinion_label="审批意见",
        opinion=(
            f"经审核，该同志符合国家规定的退休条件，同意自{_month(str(retired))}起退休，"
            "按月领取基本养老金。"
        ),
        signer="建湖县人力资源和社会保障局",
        signed=retired - datetime.timedelta(days=rng.randint(10, 40)),
        **look,
    )


def pension(person, record, *, rng: random.Random, **look) -> Form:
    """企业职工基本养老保险待遇审批表: the pension of a retirement file (TX)."""
    meta = record.metadata
    retired = _iso(meta.get("retire_date")) or record.date
    start = _iso((meta.get("work_start") or "")[:7] + "-01") if meta.get("work_start") else None
    years = max(15, retired.year - start.year) if start else rng.randint(15, 40)
    counted = min(years - 1, max(0, 1996 - start.year)) if start else 0
    return Form(
        title="企业职工基本养老保险待遇审批表",
        rows=(
            (("姓名", person.name), ("性别", SEXES[person.sex])),
            (("公民身份号码", person.id_number),),
            (("缴费年限", f"{years - counted}年"), ("视同缴费年限", f"{counted}年")),
            (("基本养老金", f"{meta.get('pension', '')}元/月"),),
            (("待遇享受时间", _month(str(retired))),),
        ),
        opinion_label="核定意见",
        opinion=(
            f"经核定，该同志基本养老金每月{meta.get('pension', '')}元，"
            f"自{_month(str(retired))}起发放。"
        ),
        signer="建湖县社会保险基金管理中心",
        signed=retired + datetime.timedelta(days=rng.randint(5, 25)),
        **look,
    )


def unemployment(person, record, *, rng: random.Random, **look) -> Form:
    """失业人员登记表 of an unemployment custody file (SYTG)."""
    meta = record.metadata
    custody = _iso(meta.get("custody_date")) or record.date
    left = custody - datetime.timedelta(days=rng.randint(20, 90))
    return Form(
        title="失业人员登记表",
        rows=(
            (("姓名", person.name), ("性别", SEXES[person.sex])),
            (("出生日期", _birth(person)), ("参加工作时间", _month(meta.get("work_start", "")))),
            (("公民身份号码", person.id_number),),
            (("原工作单位", meta.get("work_unit", "")),),
            (("失业时间", _date(left)), ("档案托管时间", _date(custody))),
        ),
        opinion_label="本人申明",
        opinion=(
            f"本人于{left.year}年{left.month}月与原单位解除劳动关系，档案转入县人才服务中心托管。"
            "以上情况属实，如有虚报，本人愿意承担相应的法律责任。"
        ),
        signer="建湖县就业管理处",
        signed=custody,
        **look,
    )


def skill_test(person, record, *, rng: random.Random, **look) -> Form:
    """工人技术等级考核鉴定表 of a skill-test file (KG)."""
    meta = record.metadata
    tested = _iso(meta.get("test_date")) or record.date
    grade = meta.get("grade", "中级工")
    return Form(
        title="工人技术等级考核鉴定表",
        rows=(
            (("姓名", person.name), ("性别", SEXES[person.sex])),
            (("公民身份号码", person.id_number),),
            (("工作单位", meta.get("work_unit", "")),),
            (("考核工种", meta.get("trade", "")), ("申报等级", grade)),
            (
                ("理论考试", f"{meta.get('theory_score', '')}分"),
                ("实际操作", f"{meta.get('practice_score', '')}分"),
            ),
        ),
        opinion_label="鉴定意见",
        opinion=f"经考核，该同志理论和实际操作成绩均合格，评定为{grade}，准予发给技术等级证书。",
        signer="建湖县职业技能鉴定中心",
        signed=tested + datetime.timedelta(days=rng.randint(10, 30)),
        **look,
    )


def resident_pension(person, record, *, rng: random.Random, **look) -> Form:
    """城乡居民基本养老保险参保登记表 of a residents' insurance file (CXJM)."""
    meta = record.metadata
    enrolled = _iso(meta.get("enrol_date")) or record.date
    township = meta.get("township", "上冈镇")
    return Form(
        title="城乡居民基本养老保险参保登记表",
        rows=(
            (("姓名", person.name), ("性别", SEXES[person.sex])),
            (("出生日期", _birth(person)), ("户籍所在地", township)),
            (("公民身份号码", person.id_number),),
            (
                ("缴费档次", f"每年{meta.get('contribution_level', '')}元"),
                ("参保时间", _date(enrolled)),
            ),
        ),
        opinion_label="参保人承诺",
        opinion="本人自愿参加城乡居民基本养老保险，按时足额缴纳养老保险费，所填信息真实无误。",
        signer=f"{township}人民政府",
        signed=enrolled,
        **look,
    )


#: Titles of the registration form of the other person files (``registration``).
REGISTRATION_TITLES = {
    "YB": "职工基本医疗保险参保登记表",
    "GBRS": "干部基本情况登记表",
    "JGSY": "机关事业单位工作人员参保登记表",
    "HXDX": "高校毕业生就业登记表",
    "ZC": "劳动人事争议仲裁申请登记表",
}


def registration(person, record, *, rng: random.Random, **look) -> Form:
    """The registration form of any other person file: who, when, where they worked."""
    meta = record.metadata
    return Form(
        title=REGISTRATION_TITLES.get(record.category.code, f"{record.category.name}登记表"),
        rows=(
            (("姓名", person.name), ("性别", SEXES[person.sex])),
            (("出生日期", _birth(person)), ("登记时间", _date(record.date))),
            (("公民身份号码", person.id_number),),
            (("工作单位", meta.get("work_unit") or meta.get("respondent") or "无"),),
        ),
        opinion_label="审核意见",
        opinion="经审核，以上情况属实，准予登记。",
        signer=record.responsible or "建湖县人力资源和社会保障局",
        signed=record.date,
        **look,
    )


#: The form of each kind of person file; the others get their ``registration``.
FORMS = {"TX": retirement, "SYTG": unemployment, "KG": skill_test, "CXJM": resident_pension}


@dataclass(frozen=True)
class Notice:
    """The first page of one of the bureau's documents (文书) as issued: the issuer's banner,
    the document number under it, the title, the addressees, the text, who signed and when."""

    issuer: str
    doc_number: str
    title: str
    addressee: str
    paragraphs: tuple[str, ...]
    signer: str
    signed: datetime.date
    angle: float = 0.0
    noise: float = 0.0

    @property
    def text(self) -> str:
        return "\n".join(
            [
                f"{self.issuer}文件",
                self.doc_number,
                self.title,
                self.addressee,
                *self.paragraphs,
                self.signer,
                _date(self.signed),
            ]
        )


_NOTICE_TEXT = (
    "为认真贯彻落实上级有关文件精神，进一步做好相关工作，结合我县实际，现将有关事项{verb}如下。",
    "各单位要高度重视，明确分管领导和具体经办人员，按照时间节点抓好落实，确保工作取得实效。",
    "工作中遇到的问题，请及时与县人力资源和社会保障局联系。",
)
_VERBS = {"通知": "通知", "决定": "决定", "意见": "提出意见", "报告": "报告", "请示": "请示"}


def notice(record, *, rng: random.Random, **look) -> Notice:
    """A document of the bureau (WS), from its catalogue entry."""
    kind = record.metadata.get("doc_type", "通知")
    up = kind in ("报告", "请示")  # sent up to the city bureau, not down to the towns
    return Notice(
        issuer="建湖县人力资源和社会保障局",
        doc_number=record.doc_number,
        title=record.title,
        addressee="盐城市人力资源和社会保障局：" if up else "各镇人民政府，县各有关单位：",
        paragraphs=(
            _NOTICE_TEXT[0].format(verb=_VERBS.get(kind, "通知")),
            *rng.sample(_NOTICE_TEXT[1:], 1),
        ),
        signer=record.responsible or "建湖县人力资源和社会保障局",
        signed=record.date,
        **look,
    )


def form_for(record, *, rng: random.Random) -> Form | Notice | None:
    """The first page of ``record``: a form naming its person when it is one person's file, a
    notice for one of the bureau's numbered documents, else None."""
    if record.date is None:
        return None
    if record.category.code == "WS" and record.doc_number:
        return notice(record, rng=rng, angle=rng.choice((0.0, 0.7, -0.9)))
    persons = list(record.persons.all()[:2])
    if len(persons) != 1:
        return None
    return FORMS.get(record.category.code, registration)(persons[0], record, rng=rng)


#: The demo's scanned pages, in the order they are drawn: (category of the record they are
#: filed in, which of the chosen records of that category, the form, how it looks). The last
#: is the misfiled one: the unemployment form of the first SYTG person, in a CXJM file.
PAGES = (
    ("TX", 0, retirement, {}),
    ("TX", 0, pension, {"angle": 1.4}),
    ("TX", 1, retirement, {"traditional": True, "angle": -2.2, "noise": 0.35}),
    ("SYTG", 0, unemployment, {"angle": 0.8, "noise": 0.6}),
    ("KG", 0, skill_test, {"traditional": True, "angle": 1.2, "noise": 0.4}),
    ("CXJM", 0, resident_pension, {"angle": -1.5}),
)
#: The misfiled page: the form of ``PAGES``' SYTG person, filed as the second page of the CXJM
#: record (a page put in the wrong folder, which the page check flags).
MISFILED = ("SYTG", 0, unemployment, "CXJM", 0, {"angle": -0.6, "noise": 0.2})


# --- drawing ----------------------------------------------------------------------------------


def draw(form: Form | Notice, *, seed: int, dpi: int = DPI) -> bytes:
    """The page as the grayscale JPEG a scanner writes at ``dpi``, the same for the same seed."""
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    page = Image.new("L", (width, height), 255)
    pen = ImageDraw.Draw(page)
    if isinstance(form, Notice):
        _draw_notice(pen, form, width=width, dpi=dpi)
    else:
        _draw_form(pen, form, width=width, dpi=dpi, seed=seed)
    if form.angle:
        page = page.rotate(form.angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if form.noise:
        page = soil(page, form.noise, seed)
    buffer = io.BytesIO()
    page.convert("L").save(buffer, format="JPEG", quality=85, dpi=(dpi, dpi))
    return buffer.getvalue()


def _draw_notice(pen: ImageDraw.ImageDraw, notice: Notice, *, width: int, dpi: int) -> None:
    point = dpi / 72
    banner = font("title", round(26 * point), False)
    heading = font("title", round(18 * point), False)
    body = font("body", round(14 * point), False)
    size = body.size
    left, right = round(28 / 25.4 * dpi), width - round(26 / 25.4 * dpi)

    def centred(text, y, face, fill=20):
        pen.text(((width - pen.textlength(text, font=face)) / 2, y), text, font=face, fill=fill)

    y = round(35 / 25.4 * dpi)
    centred(f"{notice.issuer}文件", y, banner, fill=70)  # the red banner, scanned in grey
    y += round(banner.size * 2.2)
    centred(notice.doc_number, y, body)
    y += round(size * 1.8)
    pen.line((left, y, right, y), fill=70, width=round(point * 1.5))
    y += round(size * 2)
    per_line = int((right - left) // heading.size)
    for start in range(0, len(notice.title), per_line):
        centred(notice.title[start : start + per_line], y, heading)
        y += round(heading.size * 1.6)
    y += round(size * 1.2)
    pen.text((left, y), notice.addressee, font=body, fill=25)
    per_line = int((right - left) // size)
    for paragraph in notice.paragraphs:
        text = "\u3000\u3000" + paragraph  # two full-width spaces: the first line's indent
        for start in range(0, len(text), per_line):
            y += round(size * 1.75)
            pen.text((left, y), text[start : start + per_line], font=body, fill=25)
    y += round(size * 4)
    for text in (notice.signer, _date(notice.signed)):
        pen.text((right - size * 2 - pen.textlength(text, font=body), y), text, font=body, fill=25)
        y += round(size * 1.75)


def _draw_form(pen: ImageDraw.ImageDraw, form: Form, *, width: int, dpi: int, seed: int) -> None:
    convert = _traditional().convert if form.traditional else (lambda text: text)
    point = dpi / 72
    title_font = font("title", round(20 * point), form.traditional)
    body = font("body", round(12 * point), form.traditional)
    size = body.size
    left, right = round(22 / 25.4 * dpi), width - round(22 / 25.4 * dpi)
    line = max(2, round(point * 0.8))
    title = convert(form.title)
    pen.text(
        ((width - pen.textlength(title, font=title_font)) / 2, round(28 / 25.4 * dpi)),
        title,
        font=title_font,
        fill=15,
    )
    y = round(28 / 25.4 * dpi) + round(20 * point * 2.4)
    number = f"编号：{random.Random(seed).randint(10000, 99999)}"
    pen.text(
        (right - pen.textlength(convert(number), font=body), y - size * 1.6),
        convert(number),
        font=body,
        fill=30,
    )
    row_height = round(size * 2.3)
    label_width = round((right - left) * 0.2)
    half = (right - left) // 2
    for row in form.rows:
        pen.rectangle((left, y, right, y + row_height), outline=0, width=line)
        cells = [(left, right)] if len(row) == 1 else [(left, left + half), (left + half, right)]
        for (x0, _x1), (label, value) in zip(cells, row, strict=True):
            pen.line((x0 + label_width, y, x0 + label_width, y + row_height), fill=0, width=line)
            pen.line((x0, y, x0, y + row_height), fill=0, width=line)
            text_y = y + (row_height - size) / 2 - size * 0.15
            pen.text((x0 + size * 0.5, text_y), convert(label), font=body, fill=20)
            pen.text((x0 + label_width + size * 0.5, text_y), convert(value), font=body, fill=25)
        y += row_height
    # The opinion: a tall box, its text wrapped, the office and the date at its foot.
    per_line = int((right - left - label_width - size) // size)
    opinion = convert(form.opinion)
    wrapped = [opinion[i : i + per_line] for i in range(0, len(opinion), per_line)]
    box = row_height * (len(wrapped) + 4)
    pen.rectangle((left, y, right, y + box), outline=0, width=line)
    pen.line((left + label_width, y, left + label_width, y + box), fill=0, width=line)
    pen.text(
        (left + size * 0.5, y + (box - size) / 2), convert(form.opinion_label), font=body, fill=20
    )
    for n, text in enumerate(wrapped):
        pen.text(
            (left + label_width + size * 0.5, y + size * 0.8 + n * size * 1.8),
            text,
            font=body,
            fill=25,
        )
    for n, text in enumerate((form.signer, _date(form.signed))):
        text = convert(text)
        pen.text(
            (right - size - pen.textlength(text, font=body), y + box - size * (4.2 - 1.9 * n)),
            text,
            font=body,
            fill=25,
        )
