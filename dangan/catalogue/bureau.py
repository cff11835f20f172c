"""The county HRSS bureau's classification scheme as shipped.

Categories, their fields and the retention schedule.

Installed once by a data migration; from then on it is the archive's own data, changed in the
administration pages. Retention periods follow 《社会保险业务档案管理规定(试行)》 and STANDARDS.md;
where a period is a local practice rather than a national rule, the archive should review it.
"""

PERSON_NAME_ALIASES = ["姓名", "姓 名", "名字", "职工姓名", "人员姓名", "参保人姓名", "档案人姓名"]
ID_NUMBER_ALIASES = [
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "公民身份证号",
    "身份证",
    "证件号码",
    "身份证件号码",
    "社会保障号码",
    "身份号码",
]
SEX_ALIASES = ["性别", "性 别"]
BIRTH_ALIASES = ["出生日期", "出生年月", "出生时间", "出生年月日"]

F_TEXT, F_DATE, F_CHOICE, F_INT, F_DEC = "text", "date", "choice", "integer", "decimal"


def _f(
    key, label, kind=F_TEXT, *, required=False, choices=(), aliases=(), pattern="", max_length=None
):
    return {
        "key": key,
        "label": label,
        "kind": kind,
        "required": required,
        "choices": list(choices),
        "aliases": [label, *aliases],
        "pattern": pattern,
        "max_length": max_length,
    }


WORK_UNIT = _f("work_unit", "工作单位", aliases=["原工作单位", "原单位", "单位名称", "所在单位"])
WORK_START = _f("work_start", "参加工作时间", F_DATE, aliases=["参工时间", "参加工作日期"])

#: The upper levels of the classification scheme (标准体系表); records are filed in the leaves.
GROUPS = [
    {"code": "XZ", "name": "行政管理类", "children": ["WS", "JX"]},
    {"code": "RS", "name": "人事人才类", "children": ["GBRS", "HXDX"]},
    {"code": "JY", "name": "就业和职业能力类", "children": ["SYTG", "KG"]},
    {"code": "SB", "name": "社会保险类", "children": ["TX", "YB", "QYCB", "JGSY", "CXJM"]},
    {"code": "LD", "name": "劳动关系类", "children": ["ZC"]},
]

CATEGORIES = [
    {
        "code": "WS",
        "name": "文书档案",
        "class_code": "WS",
        "level": "item",
        "retention": "D30",
        "template": "{fonds}-{class}·{year}-{retention}-{org}-{seq:4}",
        "title": "",
        "fields": [
            _f(
                "doc_type",
                "文种",
                F_CHOICE,
                choices=[
                    "通知",
                    "通报",
                    "报告",
                    "请示",
                    "批复",
                    "函",
                    "意见",
                    "决定",
                    "纪要",
                    "其他",
                ],
            )
        ],
        "rules": [
            ("本局重要文件、党组会议纪要", "Y"),
            ("一般性业务文件", "D30"),
            ("日常事务性文件", "D10"),
        ],
    },
    {
        "code": "GBRS",
        "name": "干部人事档案",
        "class_code": "RS",
        "level": "volume",
        "retention": "Y",
        "title": "{name}干部人事档案",
        "fields": [
            _f(
                "cadre_class",
                "类别",
                F_CHOICE,
                choices=[
                    "1 履历",
                    "2 自传",
                    "3 考察考核鉴定",
                    "4 学历学位职称培训",
                    "5 政审",
                    "6 党团",
                    "7 奖励",
                    "8 处分",
                    "9 工资任免出国会议代表",
                    "10 其他",
                ],
                aliases=["分类", "类号"],
            ),
            WORK_UNIT,
            _f("position", "职务", aliases=["现任职务", "职务职级"]),
        ],
        "rules": [("干部人事档案", "Y")],
    },
    {
        "code": "TX",
        "name": "企业职工退休档案",
        "class_code": "ZY",
        "level": "volume",
        "retention": "D100",
        "title": "{name}企业职工退休档案",
        "fields": [
            WORK_UNIT,
            WORK_START,
            _f("retire_date", "退休日期", F_DATE, aliases=["退休时间", "办理退休时间"]),
            _f(
                "retire_type",
                "退休类别",
                F_CHOICE,
                choices=["正常退休", "特殊工种提前退休", "因病提前退休", "其他"],
            ),
            _f("pension", "基本养老金", F_DEC, aliases=["养老金", "月养老金"]),
        ],
        "rules": [("退休审批表", "D100"), ("养老保险待遇核定", "D50")],
    },
    {
        "code": "SYTG",
        "name": "失业人员托管档案",
        "class_code": "ZY",
        "level": "volume",
        "retention": "D50",
        "title": "{name}失业人员托管档案",
        "fields": [
            WORK_UNIT,
            WORK_START,
            _f("custody_date", "托管日期", F_DATE, aliases=["托管时间", "档案转入时间"]),
        ],
        "rules": [("失业人员档案托管登记", "D50"), ("失业保险待遇核定", "D50")],
    },
    {
        "code": "YB",
        "name": "医保档案",
        "class_code": "ZY",
        "level": "volume",
        "retention": "D100",
        "title": "{name}医疗保险档案",
        "fields": [
            WORK_UNIT,
            _f("insurance_number", "医保编号", aliases=["医疗保险号", "医保号"]),
            _f("enrol_date", "参保日期", F_DATE, aliases=["参保时间"]),
        ],
        "rules": [("参保人员登记", "D100"), ("个人账户", "D100"), ("待遇核定", "D50")],
    },
    {
        "code": "HXDX",
        "name": "回乡大学生档案",
        "class_code": "ZY",
        "level": "volume",
        "retention": "D100",
        "title": "{name}回乡大学生档案",
        "fields": [
            _f("school", "毕业院校", aliases=["院校", "学校"]),
            _f("major", "专业", aliases=["所学专业"]),
            _f("education", "学历", F_CHOICE, choices=["专科", "本科", "硕士研究生", "博士研究生"]),
            _f("graduation_date", "毕业时间", F_DATE, aliases=["毕业日期"]),
        ],
        "rules": [("回乡大学生档案", "D100")],
    },
    {
        "code": "KG",
        "name": "工人技术考工档案",
        "class_code": "ZY",
        "level": "volume",
        "retention": "D100",
        "title": "{name}工人技术考工档案",
        "fields": [
            WORK_UNIT,
            _f("trade", "工种", aliases=["考核工种", "职业"]),
            _f(
                "grade",
                "等级",
                F_CHOICE,
                choices=["初级工", "中级工", "高级工", "技师", "高级技师"],
                aliases=["技术等级", "评定等级"],
            ),
            _f("test_date", "考核日期", F_DATE, aliases=["考试时间", "鉴定日期"]),
            _f("theory_score", "理论成绩", F_INT, aliases=["理论考试"]),
            _f("practice_score", "实操成绩", F_INT, aliases=["实际操作"]),
        ],
        "rules": [("技术等级考核鉴定表", "D100")],
    },
    {
        "code": "QYCB",
        "name": "企业参保档案",
        "class_code": "ZY",
        "level": "item",
        "retention": "Y",
        "title": "{enterprise}参保登记",
        "fields": [
            _f("enterprise", "单位名称", required=True, aliases=["企业名称", "参保单位"]),
            _f(
                "credit_code",
                "统一社会信用代码",
                pattern=r"[0-9A-HJ-NPQRTUWXY]{18}",
                aliases=["信用代码", "组织机构代码"],
            ),
            _f("enrol_date", "参保日期", F_DATE, aliases=["参保时间"]),
        ],
        "rules": [("参保单位登记", "Y"), ("参保单位登记证", "D10")],
    },
    {
        "code": "JGSY",
        "name": "机关事业单位职工参保及退休人员档案",
        "class_code": "ZY",
        "level": "volume",
        "retention": "D100",
        "title": "{name}机关事业单位参保档案",
        "fields": [
            WORK_UNIT,
            _f("enrol_date", "参保日期", F_DATE),
            _f("retire_date", "退休日期", F_DATE),
        ],
        "rules": [("参保人员登记", "D100"), ("个人账户", "D100"), ("待遇核定", "D50")],
    },
    {
        "code": "CXJM",
        "name": "城乡居民保险档案",
        "class_code": "ZY",
        "level": "volume",
        "retention": "D100",
        "title": "{name}城乡居民养老保险档案",
        "fields": [
            _f("township", "乡镇", aliases=["所在乡镇", "镇(街道)"]),
            _f("contribution_level", "缴费档次", F_INT, aliases=["缴费标准"]),
            _f("enrol_date", "参保日期", F_DATE),
        ],
        "rules": [("参保人员登记", "D100"), ("社会保障卡", "D50"), ("待遇核定", "D50")],
    },
    {
        "code": "JX",
        "name": "绩效管理档案",
        "class_code": "ZY",
        "level": "item",
        "retention": "D30",
        "title": "",
        "fields": [
            _f("assessed", "考核对象", aliases=["被考核单位"]),
            _f("period", "考核年度", F_INT),
            _f("grade", "考核等次", F_CHOICE, choices=["优秀", "良好", "合格", "不合格"]),
        ],
        "rules": [("年度绩效考核", "D30")],
    },
    {
        "code": "ZC",
        "name": "劳动争议仲裁档案",
        "class_code": "ZY",
        "level": "item",
        "retention": "D30",
        "title": "",
        "fields": [
            _f("case_number", "案号", aliases=["仲裁案号"]),
            _f("applicant", "申请人"),
            _f("respondent", "被申请人"),
            _f("outcome", "结案方式", F_CHOICE, choices=["裁决", "调解", "撤诉", "其他"]),
        ],
        "rules": [("仲裁裁决案卷", "D30"), ("重大集体争议案卷", "Y")],
    },
]


def install(apps):
    """Create the scheme, a bureau unit and its fonds, where they are not there yet."""
    Category = apps.get_model("catalogue", "Category")
    FieldDefinition = apps.get_model("catalogue", "FieldDefinition")
    RetentionRule = apps.get_model("catalogue", "RetentionRule")
    Unit = apps.get_model("accounts", "Unit")
    Fonds = apps.get_model("catalogue", "Fonds")
    bureau, _ = Unit.objects.get_or_create(
        code="BUREAU", defaults={"name": "县人力资源和社会保障局", "kind": "bureau"}
    )
    Fonds.objects.get_or_create(
        code="A001", defaults={"name": "县人力资源和社会保障局", "unit": bureau}
    )
    parents = {}
    for position, group in enumerate(GROUPS, start=1):
        parent, _ = Category.objects.get_or_create(
            code=group["code"], defaults={"name": group["name"], "position": position * 100}
        )
        parents.update({child: parent for child in group["children"]})
    for position, spec in enumerate(CATEGORIES, start=1):
        category, created = Category.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "class_code": spec["class_code"],
                "level": spec["level"],
                "default_retention": spec["retention"],
                "title_template": spec["title"],
                "position": parents[spec["code"]].position + position,
                "parent": parents[spec["code"]],
                **({"code_template": spec["template"]} if "template" in spec else {}),
            },
        )
        if not created:
            continue
        for field_position, field in enumerate(spec["fields"], start=1):
            FieldDefinition.objects.create(category=category, position=field_position * 10, **field)
        for record_type, retention in spec["rules"]:
            RetentionRule.objects.create(
                category=category, record_type=record_type, retention=retention
            )
