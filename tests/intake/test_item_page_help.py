"""The hand-over item form shows what the item's uploaded page says beside each field (taken
with one click, or all at once) and where the classifier would put the item; a page that says
nothing offers nothing."""

import io

import pytest
from django.urls import reverse

from dangan.intake import handover as services
from tests.assist.samples import SAMPLES

pytestmark = pytest.mark.usefixtures("content_dir")

ROSE = "320925194304016802"  # 罗凤秀, on the sample scan SYTG-00001


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the classifier learns from the scheme (no records yet)


@pytest.fixture
def draft(town_clerk, fonds, category):
    return services.create_list(
        actor=town_clerk, fonds=fonds, category=category, title="2024年托管档案移交"
    )


def add(draft, clerk, data: bytes, **values):
    return services.add_item(
        actor=clerk,
        handover=draft,
        values={"title": "托管档案", "date": "2024-03-01", "responsible": "城关镇社保所", **values},
        files=[("1.jpg", io.BytesIO(data))],
    )


def test_the_item_form_offers_what_its_page_says_and_the_category(draft, town_clerk, logged_in):
    path = SAMPLES / "SYTG-00001" / "0001.jpg"
    item = add(draft, town_clerk, path.read_bytes())
    page = logged_in(town_clerk).get(reverse("intake:handover-item", args=[draft.pk, item.pk]))
    text = page.content.decode()
    for field, value in [
        ("person_id", ROSE),
        ("person_name", "罗凤秀"),
        ("title", "失业人员档案托管登记表"),
        ("date", "1993-04-12"),
        ("responsible", "建湖县人力资源和社会保障局"),
    ]:
        assert f'data-suggest-for="{field}" data-value="{value}"' in text, field
    assert 'class="suggestion-all"' in text and "assist/suggest.js" in text
    assert 'class="proposal"' in text and "SYTG" in text  # the list's own category
    assert (
        services.HandoverItem.objects.get(pk=item.pk).values["title"] == "托管档案"
    )  # not applied


def test_a_page_that_says_nothing_offers_nothing(draft, town_clerk, logged_in, scan):
    item = add(draft, town_clerk, scan(3))
    page = logged_in(town_clerk).get(reverse("intake:handover-item", args=[draft.pk, item.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "data-suggest-for" not in text and "suggestion-all" not in text
