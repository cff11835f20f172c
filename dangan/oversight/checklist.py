"""The inspection checklist the county starts from (规范化管理验收), shipped as data.

The county edits it afterwards (titles, weights, order, items in use); ``install`` only adds the
items that are missing, so running it again changes nothing. Titles are data, in Chinese, as
the county writes them; ``fact`` ties an item to what Dangan already knows about the unit.
"""

#: (title, weight, fact, guidance)
DEFAULT_ITEMS = [
    ("按时归集移交档案", 20, "overdue_handovers", "移交清单按期报送,无逾期未送清单。"),
    ("移交清单完整准确", 15, "returned_items", "移交清单著录完整,被退回的条目已更正。"),
    ("明确专(兼)职档案员", 15, "named_archivist", "单位有在岗的专职或兼职档案员。"),
    (
        "库房符合八防要求",
        20,
        "room_alerts",
        "防火、防盗、防水、防潮、防虫鼠、防高温、防强光、防尘;温湿度在限值内。",
    ),
    ("无散存零乱档案", 15, "", "档案装盒上架,无散乱堆放。"),
    ("按期归档", 15, "late_filing", "录入的档案在期限内归档。"),
]


def install(apps) -> int:
    """Add the default items that are not there yet; the number added."""
    item_model = apps.get_model("oversight", "ChecklistItem")
    added = 0
    for position, (title, weight, fact, guidance) in enumerate(DEFAULT_ITEMS):
        if item_model.objects.filter(title=title).exists():
            continue
        item_model.objects.create(
            title=title, weight=weight, fact=fact, guidance=guidance, position=position
        )
        added += 1
    return added
