"""Demonstration data (演示数据): units, users, persons and their records in every category.

The data tell consistent life stories: a person's ID number carries their region, birthday and
sex; they start work after sixteen, retire at fifty, fifty-five or sixty, are taken into
unemployment custody between the two, sit skill tests while at work. Everything is written
through the same services a clerk's form uses (``resolve_persons``, ``create_records``,
``create_user``), so archival codes are numbered and the audit trail is written for real.

The Chinese in this module is data (names, units, titles), not user-facing text.
"""

import datetime
import functools
import random
from collections import Counter
from dataclasses import dataclass, field

import opencc
from django.db import transaction
from django.utils.crypto import get_random_string
from stdnum.cn import ric, uscc

from dangan.accounts.models import Role, Secrecy, Unit, User
from dangan.accounts.services import create_user
from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_events
from dangan.catalogue.models import Category, Fonds, Openness, PublicAttribute
from dangan.catalogue.services import RecordDraft, create_records
from dangan.people import id_numbers
from dangan.people.models import Person, RecordPerson
from dangan.people.services import resolve_persons

#: The "today" of the demo, fixed so that one seed always gives the same archive.
REFERENCE_DATE = datetime.date(2026, 6, 30)
#: Region codes of the sample county (建湖县) and two neighbours, with their weights.
REGIONS = [("320925", 8), ("320981", 1), ("320902", 1)]
COUNTY = "建湖县"
BUREAU_NAME = "建湖县人力资源和社会保障局"
PERSONS_PER_BATCH = 500

BUSINESS_UNITS = [
    ("SBZX", "社保中心"),
    ("JYC", "就业管理处"),
    ("YBZX", "医保中心"),
    ("RCZX", "人才服务中心"),
    ("JNJD", "职业技能鉴定中心"),
    ("ZCY", "劳动人事争议仲裁院"),
]
TOWNS = [
    ("SHANGGANG", "上冈镇"),
    ("GANGDONG", "冈东镇"),
    ("JINHU", "近湖镇"),
    ("ZHONGZHUANG", "钟庄镇"),
    ("YANDAN", "颜单镇"),
]
#: Which unit keeps each category's records and who is named as responsible.
KEEPERS = {
    "WS": "BUREAU",
    "GBRS": "BUREAU",
    "JX": "BUREAU",
    "TX": "SBZX",
    "QYCB": "SBZX",
    "JGSY": "SBZX",
    "SYTG": "JYC",
    "YB": "YBZX",
    "HXDX": "RCZX",
    "KG": "JNJD",
    "ZC": "ZCY",
}
RESPONSIBLE = {
    "BUREAU": BUREAU_NAME,
    "SBZX": "建湖县社会保险基金管理中心",
    "JYC": "建湖县就业管理处",
    "YBZX": "建湖县医疗保险基金管理中心",
    "RCZX": "建湖县人才服务中心",
    "JNJD": "建湖县职业技能鉴定中心",
    "ZCY": "建湖县劳动人事争议仲裁院",
}
LEGACY_PREFIX = {
    "TX": "退",
    "SYTG": "托",
    "YB": "医",
    "KG": "考",
    "GBRS": "干",
    "JGSY": "机",
    "CXJM": "居",
    "HXDX": "生",
    "QYCB": "企",
    "ZC": "仲",
}

#: Demo users: username, role, unit code, grants (category code / unit code / max secrecy), name.
#: The demo's compilations and exhibition (made once; a second run leaves them).
DEMO_TOPIC = "县人社局文件选编"
DEMO_CHRONICLE = "县人社局大事记"
DEMO_EXHIBITION = "social-security-in-the-archives"
DEMO_USERS = [
    ("archivist", Role.ARCHIVIST, "BUREAU", [{"max_secrecy": Secrecy.SECRET}], "王静"),
    (
        "tx_clerk",
        Role.UNIT_CLERK,
        "SBZX",
        [{"category": "TX", "max_secrecy": Secrecy.INTERNAL}],
        "陈晓梅",
    ),
    ("reading", Role.READING_CLERK, "BUREAU", [{"max_secrecy": Secrecy.INTERNAL}], "刘芳"),
    ("leader", Role.LEADER, "BUREAU", [{"max_secrecy": Secrecy.SECRET}], "张建国"),
    (
        "shanggang",
        Role.TOWN_CLERK,
        "SHANGGANG",
        [{"unit": "SHANGGANG", "max_secrecy": Secrecy.INTERNAL}],
        "周红",
    ),
    ("sysadmin", Role.SYSTEM_ADMIN, "BUREAU", [], "孙伟"),
    ("secadmin", Role.SECURITY_ADMIN, "BUREAU", [], "吴敏"),
    ("auditor", Role.AUDITOR, "BUREAU", [], "郑丽"),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严武戴孔汤季成仇陈王张"
)
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁海峰建国志红兵林东文俊晨浩宇轩祥德福荣春"
GIVEN_FEMALE = "芳娟敏静丽艳娜秀英玲霞燕萍红梅琳雪慧婷莉兰凤洁琴云莲桂珍萱怡欣悦倩颖"
ENTERPRISE_WORDS = [
    "恒达",
    "华兴",
    "宏远",
    "金湖",
    "盛通",
    "永丰",
    "新华",
    "鑫源",
    "建湖",
    "荣昌",
    "长江",
    "万利",
    "天成",
    "汇丰",
    "德润",
    "三友",
    "东升",
    "晨光",
    "苏建",
    "湖垛",
]
INDUSTRIES = [
    "机械制造有限公司",
    "纺织有限公司",
    "化工有限公司",
    "电子科技有限公司",
    "建筑工程有限公司",
    "食品有限公司",
    "石油机械有限公司",
    "服装厂",
    "粮油加工厂",
    "农机有限公司",
    "印刷有限公司",
    "商贸有限公司",
]
PUBLIC_UNITS = [
    "建湖县教育局",
    "建湖县人民医院",
    "建湖县财政局",
    "建湖县农业农村局",
    "建湖县实验小学",
    "建湖县第一中学",
    "建湖县人力资源和社会保障局",
    "建湖县水务局",
    "上冈镇人民政府",
    "冈东镇人民政府",
    "近湖镇人民政府",
    "建湖县卫生健康委员会",
]
POSITIONS = [
    "科员",
    "副科长",
    "科长",
    "办事员",
    "副主任",
    "主任",
    "教师",
    "医师",
    "会计",
    "副局长",
    "工程师",
]
TRADES = [
    "车工",
    "钳工",
    "电工",
    "焊工",
    "铣工",
    "汽车驾驶员",
    "锅炉工",
    "化学检验工",
    "缝纫工",
    "中式烹调师",
    "电梯安装维修工",
    "维修电工",
]
SCHOOLS = [
    "南京大学",
    "苏州大学",
    "扬州大学",
    "江南大学",
    "南京师范大学",
    "盐城师范学院",
    "盐城工学院",
    "南通大学",
    "江苏大学",
    "河海大学",
    "南京农业大学",
    "淮阴工学院",
]
MAJORS = [
    "汉语言文学",
    "计算机科学与技术",
    "会计学",
    "机械设计制造及其自动化",
    "护理学",
    "市场营销",
    "法学",
    "英语",
    "土木工程",
    "电气工程及其自动化",
    "农学",
    "小学教育",
]
WS_OFFICES = {  # organisation code: office, document-number word
    "BGS": ("办公室", "建人社发"),
    "SBK": ("社会保险科", "建人社发"),
    "JYK": ("就业促进科", "建人社发"),
    "RSK": ("人事科", "建人社人"),
    "LDK": ("劳动关系科", "建人社劳"),
    "ZCK": ("政策法规科", "建人社办"),
}
WS_SUBJECTS = [
    "做好{y}年度社会保险费征缴工作",
    "开展{y}年度劳动保障监察执法检查",
    "做好{y}年高校毕业生就业创业工作",
    "调整{y}年企业退休人员基本养老金",
    "开展{y}年度职业技能等级认定",
    "加强基层人力资源和社会保障平台建设",
    "印发《建湖县人社系统档案管理办法》",
    "开展城乡居民基本养老保险参保扩面",
    "做好农民工工资支付保障工作",
    "公布{y}年度事业单位公开招聘结果",
    "推进人社档案数字化建设",
    "开展失业保险稳岗返还工作",
]
WS_DOC_TYPES = {
    "通知": "关于{s}的通知",
    "通报": "关于{s}情况的通报",
    "报告": "关于{s}情况的报告",
    "请示": "关于{s}的请示",
    "批复": "关于{s}的批复",
    "函": "关于{s}的函",
    "意见": "关于{s}的实施意见",
    "决定": "关于{s}的决定",
    "纪要": "{s}专题会议纪要",
}


@dataclass
class Summary:
    """What one run added, for the command's report."""

    seed: int
    persons: int = 0
    records: int = 0
    by_category: Counter = field(default_factory=Counter)
    units_created: list = field(default_factory=list)
    users_created: list = field(default_factory=list)
    users_existing: list = field(default_factory=list)
    activity: Counter = field(default_factory=Counter)
    #: Scanned forms drawn (``demo.scans``) and, when read here, the pages by pipeline state.
    scans: int = 0
    scans_later: bool = False  # left to the worker, to draw and read
    pages: dict = field(default_factory=dict)


@dataclass
class Life:
    """One person of the demo, before they are saved."""

    id_number: str
    name: str
    sex: str
    birth: datetime.date
    kind: str
    work_start: datetime.date | None = None


@functools.cache
def _to_traditional():
    return opencc.OpenCC("s2t")


def _years_after(date: datetime.date, years: int) -> datetime.date:
    try:
        return date.replace(year=date.year + years)
    except ValueError:  # 29 February
        return date.replace(year=date.year + years, day=28)


class Generator:
    """One run of the demo: a seeded random source and the archive's scheme as it stands."""

    def __init__(self, *, seed: int | None = None, progress=None):
        self.seed = random.randrange(1, 10**6) if seed is None else seed
        self.rng = random.Random(self.seed)
        self.progress = progress or (lambda done, total: None)
        self.summary = Summary(seed=self.seed)
        self.fonds = Fonds.objects.order_by("code").first()
        self.categories = {c.code: c for c in Category.objects.prefetch_related("fields")}
        self.fields = {
            code: {f.key: f for f in c.fields.all()} for code, c in self.categories.items()
        }
        self.enterprises = []
        self.taken = set(Person.objects.values_list("id_number", flat=True))
        self.added_pages = []  # every page this run adds, to read them at its end

    # --- units and users ---------------------------------------------------------------------

    def ensure_units(self) -> dict[str, Unit]:
        """The bureau (installed with the scheme), its business units and a few towns."""
        with transaction.atomic():
            bureau, _ = Unit.objects.get_or_create(
                code="BUREAU", defaults={"name": BUREAU_NAME, "kind": Unit.Kind.BUREAU}
            )
            wanted = [(c, n, Unit.Kind.BUSINESS) for c, n in BUSINESS_UNITS]
            wanted += [(c, n, Unit.Kind.TOWN) for c, n in TOWNS]
            existing = set(
                Unit.objects.filter(code__in=[c for c, _n, _k in wanted]).values_list(
                    "code", flat=True
                )
            )
            new = [
                Unit(code=c, name=n, kind=k, parent=bureau)
                for c, n, k in wanted
                if c not in existing
            ]
            for unit in new:
                unit.save()
            record_events(
                actor=None,
                events=[
                    Event(
                        action=AuditEvent.Action.CREATE,
                        obj=u,
                        after={"code": u.code, "name": u.name, "kind": u.kind},
                    )
                    for u in new
                ],
            )
        self.summary.units_created = [u.code for u in new]
        self.units = {u.code: u for u in Unit.objects.all()}
        return self.units

    def ensure_users(self, password: str) -> None:
        """The demo users with their scoped grants; a username already taken is left alone."""
        taken = set(
            User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).values_list(
                "username", flat=True
            )
        )
        for username, role, unit_code, grants, name in DEMO_USERS:
            if username in taken:
                self.summary.users_existing.append(username)
                continue
            rows = []
            for grant in grants:
                row = {"max_secrecy": grant["max_secrecy"]}
                if "category" in grant:
                    row["category"] = self.categories[grant["category"]]
                if "unit" in grant:
                    row["unit"] = self.units[grant["unit"]]
                rows.append(row)
            create_user(
                actor=None,
                username=username,
                password=password,
                role=role,
                unit=self.units.get(unit_code),
                grants=rows,
                first_name=name,
            )
            self.summary.users_created.append(username)

    # --- persons -----------------------------------------------------------------------------

    def _name(self, sex: str) -> str:
        given = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
        length = 1 if self.rng.random() < 0.2 else 2
        name = self.rng.choice(SURNAMES) + "".join(self.rng.sample(given, length))
        if self.rng.random() < 0.03:  # old registers keep some names in traditional characters
            name = _to_traditional().convert(name)
        return name

    def _id_number(self, birth: datetime.date, sex: str) -> str:
        regions, weights = zip(*REGIONS, strict=True)
        while True:
            region = self.rng.choices(regions, weights)[0]
            order = self.rng.randrange(0, 100)
            sex_digit = self.rng.randrange(1, 10, 2) if sex == "M" else self.rng.randrange(0, 10, 2)
            body = f"{region}{birth:%Y%m%d}{order:02d}{sex_digit}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.taken:
                self.taken.add(number)
                return number

    def _life(self) -> Life:
        kind = self.rng.choices(["enterprise", "public", "rural", "graduate"], [50, 15, 25, 10])[0]
        first, last = {"graduate": (1976, 2002), "rural": (1940, 2006)}.get(kind, (1940, 2004))
        birth = datetime.date(first, 1, 1) + datetime.timedelta(
            days=self.rng.randrange((datetime.date(last, 12, 31) - datetime.date(first, 1, 1)).days)
        )
        sex = self.rng.choice("MF")
        return Life(
            id_number=self._id_number(birth, sex),
            name=self._name(sex),
            sex=sex,
            birth=birth,
            kind=kind,
        )

    # --- records -----------------------------------------------------------------------------

    def _day_between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        return start + datetime.timedelta(days=self.rng.randrange(max((end - start).days, 1)))

    def _secrecy(self, *, public_share=0.05, secret_share=0.03) -> dict:
        """Mostly 内部, some 公开, a few 秘密, with openness and public attribute to match."""
        roll = self.rng.random()
        if roll < secret_share:
            return {
                "secrecy": Secrecy.SECRET,
                "secrecy_term": "10年",
                "openness": self.rng.choice([Openness.CONTROLLED, Openness.DELAYED]),
                "public_attribute": PublicAttribute.NOT_PUBLIC,
            }
        if roll < secret_share + public_share:
            return {
                "secrecy": Secrecy.PUBLIC,
                "openness": Openness.OPEN,
                "public_attribute": self.rng.choice(
                    [PublicAttribute.ACTIVE, PublicAttribute.ON_REQUEST]
                ),
            }
        return {
            "secrecy": Secrecy.INTERNAL,
            "openness": self.rng.choices([Openness.CONTROLLED, Openness.UNREVIEWED], [80, 20])[0],
            "public_attribute": self.rng.choice(
                [PublicAttribute.NOT_PUBLIC, PublicAttribute.ON_REQUEST]
            ),
        }

    def _choice(self, code: str, key: str, fallback=None):
        field_ = self.fields[code].get(key)
        if field_ is not None and field_.choices:
            return self.rng.choice(field_.choices)
        return fallback

    def _draft(
        self,
        code: str,
        *,
        date: datetime.date,
        title: str = "",
        metadata: dict,
        persons=(),
        unit_code: str | None = None,
        retention: str | None = None,
        org_code: str = "",
        doc_number: str = "",
        secrecy: dict | None = None,
        name: str = "",
        enterprise: str = "",
    ) -> RecordDraft | None:
        category = self.categories.get(code)
        if category is None or date > REFERENCE_DATE:
            return None
        unit_code = unit_code or KEEPERS.get(code, "BUREAU")
        if not title:
            try:
                title = category.title_template.format_map({"name": name, "enterprise": enterprise})
            except (KeyError, ValueError):  # a template changed by the archive
                title = ""
            title = title or f"[{name or enterprise}{category.name}]"
        volume = category.level == "volume"
        values = {
            "year": date.year,
            "date": date,
            "title": title,
            "org_code": org_code,
            "doc_number": doc_number,
            "unit": self.units.get(unit_code),
            "responsible": RESPONSIBLE.get(unit_code) or f"{self.units[unit_code].name}人社服务所",
            "page_count": self.rng.randint(8, 120) if volume else self.rng.randint(1, 24),
            "box_number": f"{code}-{date.year}-{self.rng.randint(1, 60):03d}",
            **(secrecy or self._secrecy()),
        }
        if retention:
            values["retention"] = retention
        if code in LEGACY_PREFIX and date.year < 2016 and self.rng.random() < 0.5:
            values["legacy_number"] = (
                f"{LEGACY_PREFIX[code]}{date.year % 100:02d}-{self.rng.randint(1, 9999):04d}"
            )
        known = self.fields[code]
        metadata = {k: v for k, v in metadata.items() if k in known and v not in (None, "")}
        self.summary.by_category[code] += 1
        return RecordDraft(
            fonds=self.fonds,
            category=category,
            values=values,
            metadata=metadata,
            persons=list(persons),
        )

    def _work_start(self, life: Life, earliest: datetime.date | None = None) -> datetime.date:
        start = _years_after(life.birth, self.rng.randint(16, 22))
        if earliest and start < earliest:
            start = earliest + datetime.timedelta(days=self.rng.randrange(30, 400))
        return start

    @staticmethod
    def _month_or_day(date: datetime.date) -> str:
        """Old registers give the start of work to the month only."""
        return f"{date:%Y-%m}" if date.year < 1985 else date.isoformat()

    def person_drafts(self, life: Life, person: Person) -> list[RecordDraft]:
        """The records of one life, in the categories that life passes through."""
        rng, drafts, who = self.rng, [], {"persons": [person], "name": life.name}
        retire_age = {"M": 60, "F": 55 if life.kind == "public" else 50}[life.sex]
        retire = _years_after(life.birth, retire_age)
        if life.kind == "graduate":
            graduated = datetime.date(life.birth.year + rng.randint(21, 25), 7, 1)
            if graduated < REFERENCE_DATE:
                drafts.append(
                    self._draft(
                        "HXDX",
                        date=graduated + datetime.timedelta(days=60),
                        metadata={
                            "school": rng.choice(SCHOOLS),
                            "major": rng.choice(MAJORS),
                            "education": self._choice("HXDX", "education", "本科"),
                            "graduation_date": graduated.isoformat(),
                        },
                        **who,
                    )
                )
                drafts += self._enterprise_life(life, retire, who, earliest=graduated)
        elif life.kind == "enterprise":
            drafts += self._enterprise_life(life, retire, who)
        elif life.kind == "public":
            drafts += self._public_life(life, retire, who)
        else:
            drafts += self._rural_life(life, who)
        return [d for d in drafts if d is not None]

    def _enterprise_life(self, life, retire, who, earliest=None) -> list:
        rng, drafts = self.rng, []
        start = self._work_start(life, earliest)
        if start >= REFERENCE_DATE:
            return drafts
        life.work_start = start
        unit = rng.choice(self.enterprises)[0]
        end = min(retire, REFERENCE_DATE)
        if rng.random() < 0.7:
            enrol = self._day_between(
                max(start, datetime.date(2000, 1, 1)), max(end, datetime.date(2000, 6, 1))
            )
            drafts.append(
                self._draft(
                    "YB",
                    date=enrol,
                    metadata={
                        "work_unit": unit,
                        "insurance_number": f"3209{rng.randint(10**9, 10**10 - 1)}",
                        "enrol_date": enrol.isoformat(),
                    },
                    **who,
                )
            )
        if rng.random() < 0.4 and start < end:
            tested = self._day_between(_years_after(start, 2), _years_after(start, 15))
            if tested < end:
                drafts.append(
                    self._draft(
                        "KG",
                        date=tested,
                        metadata={
                            "work_unit": unit,
                            "trade": rng.choice(TRADES),
                            "grade": self._choice("KG", "grade"),
                            "test_date": tested.isoformat(),
                            "theory_score": rng.randint(60, 98),
                            "practice_score": rng.randint(60, 99),
                        },
                        **who,
                    )
                )
        custody_from = max(_years_after(start, 3), datetime.date(1995, 1, 1))
        custody_to = min(_years_after(retire, -1), REFERENCE_DATE)
        if rng.random() < 0.25 and custody_from < custody_to:
            custody = self._day_between(custody_from, custody_to)
            drafts.append(
                self._draft(
                    "SYTG",
                    date=custody,
                    metadata={
                        "work_unit": unit,
                        "work_start": self._month_or_day(start),
                        "custody_date": custody.isoformat(),
                    },
                    **who,
                )
            )
        if retire <= REFERENCE_DATE and retire > start:
            early = rng.random() < 0.1
            retired = _years_after(retire, -5) if early else retire
            kind = "特殊工种提前退休" if early else "正常退休"
            choices = getattr(self.fields["TX"].get("retire_type"), "choices", [])
            pension = rng.uniform(600, 1500) + max(retired.year - 2000, 0) * rng.uniform(80, 140)
            drafts.append(
                self._draft(
                    "TX",
                    date=retired,
                    retention=rng.choice(["D100", "D100", "D50"]),
                    metadata={
                        "work_unit": unit,
                        "work_start": self._month_or_day(start),
                        "retire_date": retired.isoformat(),
                        "retire_type": kind
                        if kind in choices
                        else self._choice("TX", "retire_type"),
                        "pension": f"{pension:.2f}",
                    },
                    **who,
                )
            )
        return drafts

    def _public_life(self, life, retire, who) -> list:
        rng, drafts = self.rng, []
        start = _years_after(life.birth, rng.randint(18, 24))
        if start >= REFERENCE_DATE:
            return drafts
        unit = rng.choice(PUBLIC_UNITS)
        end = min(retire, REFERENCE_DATE)
        filed = self._day_between(start, end) if start < end else start
        drafts.append(
            self._draft(
                "GBRS",
                date=filed,
                secrecy=self._secrecy(public_share=0, secret_share=0.1),
                metadata={
                    "cadre_class": self._choice("GBRS", "cadre_class"),
                    "work_unit": unit,
                    "position": rng.choice(POSITIONS),
                },
                **who,
            )
        )
        reform = datetime.date(2014, 10, 1)
        enrol = max(start, reform) if end > reform else None
        retired = retire if retire <= REFERENCE_DATE else None
        if enrol or retired:
            drafts.append(
                self._draft(
                    "JGSY",
                    date=enrol or retired,
                    metadata={
                        "work_unit": unit,
                        "enrol_date": enrol and enrol.isoformat(),
                        "retire_date": retired and retired.isoformat(),
                    },
                    **who,
                )
            )
        if rng.random() < 0.8:
            enrol_yb = self._day_between(
                max(start, datetime.date(2000, 1, 1)), max(end, datetime.date(2000, 6, 1))
            )
            drafts.append(
                self._draft(
                    "YB",
                    date=enrol_yb,
                    metadata={
                        "work_unit": unit,
                        "insurance_number": f"3209{rng.randint(10**9, 10**10 - 1)}",
                        "enrol_date": enrol_yb.isoformat(),
                    },
                    **who,
                )
            )
        return drafts

    def _rural_life(self, life, who) -> list:
        rng, drafts = self.rng, []
        town_code, town = rng.choice(TOWNS)
        adult = max(_years_after(life.birth, 16), datetime.date(2010, 1, 1))
        if adult < REFERENCE_DATE:
            enrol = self._day_between(adult, min(_years_after(adult, 6), REFERENCE_DATE))
            drafts.append(
                self._draft(
                    "CXJM",
                    date=enrol,
                    unit_code=town_code,
                    metadata={
                        "township": town,
                        "contribution_level": rng.choice(
                            [100, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000]
                        ),
                        "enrol_date": enrol.isoformat(),
                    },
                    **who,
                )
            )
        if rng.random() < 0.5 and adult < REFERENCE_DATE:
            enrol_yb = self._day_between(adult, REFERENCE_DATE)
            drafts.append(
                self._draft(
                    "YB",
                    date=enrol_yb,
                    metadata={
                        "insurance_number": f"3209{rng.randint(10**9, 10**10 - 1)}",
                        "enrol_date": enrol_yb.isoformat(),
                    },
                    **who,
                )
            )
        if rng.random() < 0.1:
            drafts += self._enterprise_life(life, _years_after(life.birth, 60), who)[:1]
        return drafts

    # --- records of no one person ------------------------------------------------------------

    def _enterprises(self) -> list[tuple[str, str, datetime.date]]:
        """Made-up enterprises of the county: name, unified social credit code, founding date."""
        found, seen = [], set()
        for word in ENTERPRISE_WORDS:
            for industry in INDUSTRIES:
                if self.rng.random() < 0.25:
                    name = f"{COUNTY}{word}{industry}"
                    if name not in seen:
                        seen.add(name)
                        found.append(
                            (
                                name,
                                self._credit_code(),
                                self._day_between(
                                    datetime.date(1992, 1, 1), datetime.date(2024, 12, 31)
                                ),
                            )
                        )
        return found

    def _credit_code(self) -> str:
        """统一社会信用代码: 9 1 (enterprise), region, organisation code (GB 11714), check."""
        body = "".join(str(self.rng.randrange(10)) for _ in range(8))
        check = (
            11 - sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        )
        org = body + {10: "X", 11: "0"}.get(check, str(check))
        code = f"91{REGIONS[0][0]}{org}"
        return code + uscc.calc_check_digit(code)

    def enterprise_drafts(self, persons: int) -> list[RecordDraft]:
        """企业参保: one enrolment per enterprise, about one enterprise for ten persons."""
        every = self._enterprises()
        self.enterprises = self.rng.sample(every, min(len(every), max(6, persons // 10)))
        drafts = []
        for name, code, founded in self.enterprises:
            enrol = self._day_between(
                max(founded, datetime.date(1995, 1, 1)),
                max(founded, datetime.date(1995, 1, 1)) + datetime.timedelta(days=200),
            )
            drafts.append(
                self._draft(
                    "QYCB",
                    date=enrol,
                    enterprise=name,
                    retention="D10" if self.rng.random() < 0.1 else None,
                    secrecy=self._secrecy(public_share=0.2, secret_share=0),
                    metadata={
                        "enterprise": name,
                        "credit_code": code,
                        "enrol_date": enrol.isoformat(),
                    },
                )
            )
        return drafts

    def document_drafts(self, count: int) -> list[RecordDraft]:
        """The bureau's own documents (文书), numbered 建人社发〔2015〕12号 per word and year."""
        numbers, drafts = Counter(), []
        dated = sorted(
            self._day_between(datetime.date(2005, 1, 1), REFERENCE_DATE) for _ in range(count)
        )
        for date in dated:
            org = self.rng.choice(list(WS_OFFICES))
            office, word = WS_OFFICES[org]
            numbers[word, date.year] += 1
            doc_type = self._choice("WS", "doc_type", "通知")
            subject = self.rng.choice(WS_SUBJECTS).format(y=date.year)
            title = WS_DOC_TYPES.get(doc_type, "关于{s}的通知").format(s=subject)
            important = doc_type in ("决定", "纪要") or "印发" in subject
            retention = "Y" if important else self.rng.choice(["D30", "D30", "D10"])
            drafts.append(
                self._draft(
                    "WS",
                    date=date,
                    title=title,
                    org_code=org,
                    retention=retention,
                    doc_number=f"{word}〔{date.year}〕{numbers[word, date.year]}号",
                    secrecy=self._secrecy(public_share=0.25, secret_share=0.05),
                    metadata={"doc_type": doc_type},
                )
            )
        return drafts

    def performance_drafts(self, persons: int) -> list[RecordDraft]:
        """绩效管理: yearly assessments of the business units and towns (fewer in a small demo)."""
        drafts, share = [], min(0.5, max(0.05, persons / 2000))
        assessed = [n for _c, n in BUSINESS_UNITS] + [n for _c, n in TOWNS]
        for year in range(2015, REFERENCE_DATE.year):
            for name in assessed:
                if self.rng.random() > share:
                    continue
                date = datetime.date(year + 1, 1, 1) + datetime.timedelta(
                    days=self.rng.randrange(20, 80)
                )
                drafts.append(
                    self._draft(
                        "JX",
                        date=date,
                        title=f"{name}{year}年度绩效考核结果",
                        metadata={
                            "assessed": name,
                            "period": year,
                            "grade": self._choice("JX", "grade"),
                        },
                    )
                )
        return drafts

    def dispute_drafts(self, workers: list[tuple[Life, Person]]) -> list[RecordDraft]:
        """劳动争议仲裁: cases brought by some of the demo's workers against an enterprise."""
        numbers, drafts = Counter(), []
        for life, person in workers:
            date = self._day_between(
                max(_years_after(life.work_start, 1), datetime.date(2008, 1, 1)), REFERENCE_DATE
            )
            if date >= REFERENCE_DATE:
                continue
            numbers[date.year] += 1
            respondent = self.rng.choice(self.enterprises)[0]
            drafts.append(
                self._draft(
                    "ZC",
                    date=date,
                    persons=[person],
                    title=f"{life.name}与{respondent}劳动争议案",
                    retention="D30",
                    metadata={
                        "case_number": f"建劳人仲案字〔{date.year}〕第{numbers[date.year]}号",
                        "applicant": life.name,
                        "respondent": respondent,
                        "outcome": self._choice("ZC", "outcome"),
                    },
                )
            )
        return drafts

    # --- the run -----------------------------------------------------------------------------

    def _save(self, drafts: list) -> None:
        drafts = [d for d in drafts if d is not None]
        if drafts:
            create_records(actor=None, drafts=drafts)
            self.summary.records += len(drafts)

    def run(self, *, persons: int, password: str, scans: bool = True, read: bool = True) -> Summary:
        """Add the demo. ``scans``: draw the scanned forms too; ``read``: read every page added
        (OCR, previews, suggestions, search index) before returning; without it the worker reads
        them, and draws the scanned forms (``demo_scans_task``)."""
        self.ensure_units()
        self.ensure_users(password)
        self._save(self.enterprise_drafts(persons))
        self._save(self.document_drafts(max(20, persons // 5)))
        self._save(self.performance_drafts(persons))
        workers = []
        for start in range(0, persons, PERSONS_PER_BATCH):
            lives = [self._life() for _ in range(min(PERSONS_PER_BATCH, persons - start))]
            saved = resolve_persons(
                actor=None,
                entries=[(id_numbers.normalize(life.id_number), life.name) for life in lives],
            )
            drafts = []
            for life in lives:
                person = saved[life.id_number]
                drafts += self.person_drafts(life, person)
                if life.work_start:
                    workers.append((life, person))
            self._save(drafts)
            self.summary.persons += len(lives)
            self.progress(self.summary.persons, persons)
        some = self.rng.sample(workers, min(len(workers), max(2, len(workers) // 25)))
        self._save(self.dispute_drafts(some))
        self.activity([person for _life, person in workers])
        self.compilation_work()
        if scans and read:
            self.scanned_forms()
        elif scans:  # drawn by the worker too: a first start is not held back by them
            from .tasks import demo_scans_task

            transaction.on_commit(lambda: demo_scans_task.enqueue(self.seed))
            self.summary.scans_later = True
        if read and self.added_pages:
            from dangan.digitize.services import read_now

            self.summary.pages = read_now(self.added_pages)
        return self.summary

    # --- the archive at work -----------------------------------------------------------------

    def activity(self, persons: list[Person]) -> None:
        """A few weeks of the archive at work, through the same services the pages use: visitors
        in the reading room and what they consulted, files lent out, copy requests (open ones
        delivered with their certificate, controlled ones waiting for approval, one of a record
        held on paper only refused with the reason), records held for a dispute, and this year's
        holdings survey. Run by the demo users."""
        from dangan.access import selectors as access_selectors
        from dangan.access import services as access
        from dangan.access.models import Purpose
        from dangan.appraisal import services as appraisal
        from dangan.appraisal.models import Hold
        from dangan.catalogue.models import Record
        from dangan.oversight import services as oversight
        from dangan.oversight.models import Survey

        names = [u[0] for u in DEMO_USERS]
        users = {u.username: u for u in User.objects.filter(username__in=names)}
        reading, archivist = users.get("reading"), users.get("archivist")
        if reading is None or archivist is None or not persons:
            return
        files = {}
        for record_id, person_id in RecordPerson.objects.filter(
            person__in=persons, record__secrecy__lte=Secrecy.INTERNAL, record__state="filed"
        ).values_list("record_id", "person_id"):
            files.setdefault(person_id, []).append(record_id)
        with_files = [p for p in persons if p.pk in files]
        purposes = [p for p, _label in Purpose.choices]
        for person in self.rng.sample(with_files, min(len(with_files), max(3, len(persons) // 20))):
            consulted = self.rng.sample(files[person.pk], min(2, len(files[person.pk])))
            access.register_visit(
                actor=reading,
                visitor_name=person.name,
                id_number=person.id_number,
                purpose=self.rng.choices(purposes, [70, 15, 3, 3, 3, 3, 3])[0],
                records=consulted,
            )
            self.summary.activity["visits"] += 1
        lent = self.rng.sample(with_files, min(len(with_files), 3))
        for person, days in zip(lent, (3, 10, 25), strict=False):
            access.lend(
                actor=archivist,
                record=files[person.pk][0],
                borrower_name=self.rng.choice(["陈晓梅", "周红", "李建华"]),
                borrower_unit=self.rng.choice([n for _c, n in BUSINESS_UNITS]),
                purpose=Purpose.WORK,
                due_on=datetime.date.today() + datetime.timedelta(days=days),
            )
            self.summary.activity["loans"] += 1
        requesters = [u for u in (users.get("tx_clerk"), reading) if u is not None]
        for openness in (Openness.OPEN, Openness.CONTROLLED):
            for requester in requesters:
                ids = list(
                    access_selectors.requestable_records(requester)
                    .filter(openness=openness, secrecy__lt=Secrecy.SECRET)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:200]
                )
                if ids:  # drawn by the generator's own seed: the same demo every time
                    record = Record.objects.get(pk=self.rng.choice(ids))
                    self.scan_a_page(record, archivist)
                    req = access.submit_request(
                        requester=requester,
                        record=record,
                        purpose=Purpose.WORK,
                        reason="核对退休审批材料",
                    )
                    # The demo shows a delivered copy at once, with or without a worker.
                    access.deliver_copy(request_id=req.pk)
                    self.summary.activity["requests"] += 1
                    break
        for person in self.rng.sample(with_files, min(len(with_files), 2)):
            record = Record.objects.get(pk=files[person.pk][0])
            if not Hold.objects.filter(record=record).exists():
                appraisal.place_hold(
                    actor=archivist,
                    record=record,
                    kind=Hold.Kind.DISPUTE,
                    reason="劳动争议仲裁案件审理中，暂缓鉴定",
                )
                self.summary.activity["holds"] += 1
        self.assemble_volumes(archivist)
        year = datetime.date.today().year
        if not Survey.objects.filter(year=year).exists():
            oversight.open_survey(actor=archivist, year=year, due_on=datetime.date(year, 12, 31))
            self.summary.activity["surveys"] += 1

    def compilation_work(self) -> None:
        """编研: a topic compilation, a chronicle and an organisational history of the bureau
        from its own documents, the first approved by the leader; and one published online
        exhibition of open records, each with a scanned page. Left alone when already there."""
        from dangan.catalogue.models import Record
        from dangan.catalogue.selectors import visible_records
        from dangan.compilation import services as compiling
        from dangan.compilation.models import Compilation, Exhibition

        users = {u.username: u for u in User.objects.filter(username__in=["archivist", "leader"])}
        archivist, leader = users.get("archivist"), users.get("leader")
        if archivist is None or leader is None:
            return
        documents = list(
            visible_records(archivist)
            .filter(category__code="WS", state=Record.State.FILED, archival_code__isnull=False)
            .order_by("date", "pk")[:60]
        )
        if not documents:
            return
        if not Compilation.objects.filter(title=DEMO_TOPIC).exists():
            topic = compiling.create_compilation(
                actor=archivist,
                kind=Compilation.Kind.TOPIC,
                title=DEMO_TOPIC,
                introduction="本汇编选录县人社局历年文件，供政策研究参考。",
                compiled_by="县人社局档案室",
            )
            for n, record in enumerate(documents[:8]):
                compiling.add_entry(
                    actor=archivist,
                    compilation=topic,
                    records=[record],
                    chapter="第一章 文件选编" if n < 4 else "第二章 工作部署",
                    text=f"（摘录）{record.title}。",
                    note="原件存县人社局档案室。" if n == 0 else "",
                )
            compiling.approve_version(
                actor=leader,
                version=compiling.submit_version(actor=archivist, compilation=topic),
            )
        if not Compilation.objects.filter(title=DEMO_CHRONICLE).exists():
            chronicle = compiling.create_compilation(
                actor=archivist, kind=Compilation.Kind.CHRONICLE, title=DEMO_CHRONICLE
            )
            for n, record in enumerate(documents[:20]):
                when = record.date or datetime.date(record.year, 1, 1)
                compiling.add_entry(
                    actor=archivist,
                    compilation=chronicle,
                    records=[record],
                    date=str(when.year) if n % 5 == 4 else f"{when.year}-{when.month:02d}",
                    text=f"{record.responsible or BUREAU_NAME}印发《{record.title}》。",
                )
        bureau = Unit.objects.filter(code="BUREAU").first()
        if bureau and not Compilation.objects.filter(kind=Compilation.Kind.ORGHISTORY).exists():
            history = compiling.start_org_history(actor=archivist, unit=bureau)
            first = history.entries.order_by("position").first()
            compiling.update_entry(
                actor=archivist,
                entry=first,
                date="2010-07",
                functions="负责全县人力资源和社会保障工作。",
                leaders="局长 张建国",
            )
            compiling.cite(actor=archivist, entry=first, records=[documents[0]])
        if not Exhibition.objects.filter(slug=DEMO_EXHIBITION).exists():
            shown = [
                r for r in documents if r.openness == Openness.OPEN and r.secrecy == Secrecy.PUBLIC
            ][:4]
            if not shown:
                return
            exhibition = compiling.create_exhibition(
                actor=archivist,
                slug=DEMO_EXHIBITION,
                title={"zh_hans": "档案里的人社工作", "en": "Social security in the archives"},
                intro={
                    "zh_hans": "从县人社局的开放档案中选出的文件，记录全县社会保障事业的发展。",
                    "en": "Open records of the county bureau on the growth of social security.",
                },
            )
            section = compiling.add_section(
                actor=archivist,
                exhibition=exhibition,
                title={"zh_hans": "文件选展", "en": "Selected documents"},
            )
            for record in shown:
                self.scan_a_page(record, archivist)
                compiling.add_exhibit(
                    actor=archivist,
                    section=section,
                    record=record,
                    caption={"zh_hans": record.title, "en": f"Document {record.doc_number}"},
                )
            compiling.submit_exhibition(actor=archivist, exhibition=exhibition)
            compiling.publish_exhibition(actor=leader, exhibition=exhibition)

    #: The items a demo volume (a retiree's or cadre's person file) is assembled from, with
    #: their page counts; the second is an attachment of the first.
    VOLUME_ITEMS = (("退休审批表", 2), ("养老金核定表", 3), ("[工龄认定说明]", 1))

    def assemble_volumes(self, archivist) -> None:
        """Two person files kept as volumes (组卷), each assembled from three items in order,
        with its volume note (备考表) and an item related to another (附件), through the
        same services as the volume page."""
        from dangan.catalogue import relations, volumes
        from dangan.catalogue.models import Record

        candidates = list(
            Record.objects.filter(
                level="volume", state="filed", secrecy__lte=Secrecy.INTERNAL, items__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:200]
        )
        for pk in self.rng.sample(candidates, min(2, len(candidates))):
            volume = Record.objects.select_related("category").get(pk=pk)
            persons = list(volume.persons.all()[:1])
            drafts = []
            for title, pages in self.VOLUME_ITEMS:
                draft = self._draft(
                    volume.category.code,
                    date=volume.date or datetime.date(volume.year, 1, 1),
                    title=title,
                    metadata={},
                    persons=persons,
                    secrecy={
                        "secrecy": volume.secrecy,
                        "openness": volume.openness,
                        "public_attribute": volume.public_attribute,
                    },
                )
                if draft is None:
                    break
                draft.values.update(level="item", page_count=pages, retention=volume.retention)
                drafts.append(draft)
            if len(drafts) != len(self.VOLUME_ITEMS):
                continue
            items = create_records(actor=archivist, drafts=drafts)
            self.summary.records += len(items)
            volumes.assemble_volume(actor=archivist, volume=volume, items=items)
            volumes.save_note(
                actor=archivist,
                volume=volume,
                notes="卷内材料齐全，按形成时间排列。",
                compiled_by=archivist.get_full_name() or archivist.username,
                compiled_on=datetime.date.today(),
            )
            relations.link_records(
                actor=archivist, source=items[1], target=items[0], kind="attachment"
            )
            self.summary.activity["volumes"] += 1

    def scan_a_page(self, record, actor) -> None:
        """Give ``record`` a scanned page unless it has one: a copy certifies pages, and a
        record held on paper only gets none. A person's file gets a form naming the person
        and a numbered document its first page as issued (``demo.scans``); any other record a
        specimen register page."""
        import io

        from dangan.content.models import Page
        from dangan.content.services import add_files
        from dangan.demo import scans
        from dangan.digitize.specimens import make_specimen, render_specimen, specimen_jpeg

        if Page.objects.filter(record=record).exists():
            return
        form = scans.form_for(record, rng=self.rng)
        if form is not None:  # a person's file: a form naming them
            data = scans.draw(form, seed=self.rng.randrange(1 << 30))
        else:
            data = specimen_jpeg(
                render_specimen(make_specimen(self.rng.randrange(1 << 30)), dpi=100)
            )
        self.added_pages += add_files(
            actor=actor, record=record, files=[("p1.jpg", io.BytesIO(data))]
        )

    def scanned_forms(self) -> None:
        """Scanned forms (``demo.scans``) in a few person files, each naming the file's person
        with the catalogue's name, ID number and dates: two retirement files (one in traditional
        characters), an unemployment, a skill-test and a residents' insurance file, the last
        with a page of another person filed in it by mistake. Added by the archivist through
        the same service as an upload, so they walk the same pipeline."""
        import io

        from django.db.models import Count

        from dangan.catalogue.models import Record
        from dangan.content.services import add_files
        from dangan.demo import scans

        archivist = User.objects.filter(username="archivist").first()
        if archivist is None:
            return
        chosen = {}
        for code in sorted({page[0] for page in scans.PAGES}):
            ids = list(
                Record.objects.filter(
                    category__code=code,
                    state=Record.State.FILED,
                    secrecy__lte=Secrecy.INTERNAL,
                    pages__isnull=True,
                )
                .annotate(people=Count("persons", distinct=True))
                .filter(people=1)
                .order_by("pk")
                .values_list("pk", flat=True)[:200]
            )
            picked = self.rng.sample(ids, min(2, len(ids)))
            chosen[code] = [Record.objects.get(pk=pk) for pk in picked]
        files: dict[Record, list] = {}

        def add(form, record):
            files.setdefault(record, []).append(form)

        for code, n, make, look in scans.PAGES:
            if n < len(chosen[code]):
                record = chosen[code][n]
                add(make(record.persons.get(), record, rng=self.rng, **look), record)
        code, n, make, host_code, host_n, look = scans.MISFILED
        if n < len(chosen[code]) and host_n < len(chosen[host_code]):
            record, host = chosen[code][n], chosen[host_code][host_n]
            person = record.persons.get()
            if person != host.persons.get():
                add(make(person, record, rng=self.rng, **look), host)
        for record, forms in files.items():
            self.added_pages += add_files(
                actor=archivist,
                record=record,
                files=[
                    (f"{n:04d}.jpg", io.BytesIO(scans.draw(form, seed=self.rng.randrange(1 << 30))))
                    for n, form in enumerate(forms, 1)
                ],
            )
            self.summary.scans += len(forms)


def demo_password(path) -> str:
    """The one password of all demo users, made up once and kept beside the data (mode 600)."""
    if path.exists():
        return path.read_text().strip()
    password = get_random_string(14)
    path.write_text(password)
    path.chmod(0o600)
    return password


def generate(
    *,
    persons: int,
    seed: int | None = None,
    password_file,
    progress=None,
    scans: bool = True,
    read: bool = True,
) -> Summary:
    """Add ``persons`` demo persons with their records, and the demo units and users; with
    ``scans`` the scanned forms, read before returning unless ``read`` is false."""
    return Generator(seed=seed, progress=progress).run(
        persons=persons, password=demo_password(password_file), scans=scans, read=read
    )
