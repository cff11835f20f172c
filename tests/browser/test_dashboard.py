"""The dashboard in a real browser, on demo data: the charts are drawn, the numbers are the
database's, and a bar leads to the records behind it."""

import pytest

from dangan.catalogue.selectors import visible_records

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(tmp_path, scheme):
    from dangan.accounts.models import User
    from dangan.demo.generator import generate

    password_file = tmp_path / "demo-password"
    generate(persons=25, seed=7, password_file=password_file)
    return User.objects.get(username="leader"), password_file.read_text().strip()


def test_leader_sees_the_charts_drawn_with_the_database_numbers(login, demo):
    leader, password = demo
    page = login(leader, password=password)
    page.goto("/stats/")
    page.wait_for_selector("#charts[data-drawn='6']")
    assert page.locator("#charts .chart canvas").count() >= 6

    visible = visible_records(leader)
    assert int(page.inner_text("#total-records")) == visible.count() > 0
    rows = page.locator("#table-category tbody tr")
    cells = [rows.nth(i).locator("td").all_text_contents() for i in range(rows.count())]
    shown = {code: int(count) for code, _name, count in cells}  # the table may be folded
    counted = {}
    for code in visible.values_list("category__code", flat=True):
        counted[code] = counted.get(code, 0) + 1
    assert shown == counted

    # The holdings-by-year chart's legend names the categories, not their codes.
    legend = page.evaluate(
        """() => echarts.getInstanceByDom(document.querySelector('[data-chart=year]'))
                  .getOption().series.map((s) => s.name)"""
    )
    names = {name for _code, name, _count in cells}
    assert set(legend) == names and not set(legend) & set(shown)

    # A click on the first bar of "holdings by category" opens the catalogue on that category.
    chart = page.locator("[data-chart=category] canvas").first
    box = chart.bounding_box()
    first = next(iter(shown))
    position = page.evaluate(
        """([selector, value]) => {
            const chart = echarts.getInstanceByDom(document.querySelector(selector));
            return chart.convertToPixel({seriesIndex: 0}, [0, value / 2]);
        }""",
        ["[data-chart=category]", shown[first]],
    )
    page.mouse.click(box["x"] + position[0], box["y"] + position[1])
    page.wait_for_url("**/catalogue/?category=*")
    assert "category=" in page.url
