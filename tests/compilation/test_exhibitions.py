"""Online exhibitions (网上展览): public, only open records — checked when the page is shown —,
no ID number, private persons' names masked unless consent, a leader's approval first, visits
counted."""

import datetime
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from PIL import Image

from dangan.accounts.models import Secrecy
from dangan.catalogue.models import Record
from dangan.catalogue.services import update_record
from dangan.compilation import selectors, services
from dangan.content.services import add_files, keep_bytes
from dangan.digitize.models import PageProcessing

pytestmark = pytest.mark.django_db

ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def jpeg(colour=(240, 235, 220), size=(600, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def with_preview(archivist, record):
    """A scanned page of ``record`` whose preview derivative the pipeline has made."""
    [page] = add_files(actor=archivist, record=record, files=[("p1.jpg", io.BytesIO(jpeg()))])
    PageProcessing.objects.update_or_create(
        page=page,
        defaults={"state": "done", "preview": keep_bytes(name="p1-m.jpg", data=jpeg())},
    )
    return page


@pytest.fixture
def exhibition(archivist, leader, open_record):
    """A published exhibition of two open records naming 李秀英 (ID number in the title)."""
    first = open_record(title="李秀英 110101199003074514 的养老保险缴费凭证")
    second = open_record(title="1992年全县养老保险改革动员大会照片")
    with_preview(archivist, first)
    show = services.create_exhibition(
        actor=archivist,
        slug="pension-reform",
        title={"zh_hans": "养老保险改革三十年", "en": "Thirty years of pension reform"},
        intro={"zh_hans": "档案里的社保改革。"},
    )
    section = services.add_section(
        actor=archivist,
        exhibition=show,
        title={"zh_hans": "制度建立", "en": "The system begins"},
    )
    services.add_exhibit(
        actor=archivist,
        section=section,
        record=first,
        caption={"zh_hans": "李秀英的第一张缴费凭证。", "en": "The first receipt."},
    )
    services.add_exhibit(
        actor=archivist, section=section, code=second.archival_code, caption={"zh_hans": "大会"}
    )
    services.submit_exhibition(actor=archivist, exhibition=show)
    services.publish_exhibition(actor=leader, exhibition=show)
    return show, first, second


def test_anyone_sees_the_published_exhibition_without_logging_in(client, exhibition):
    show, first, second = exhibition
    listing = client.get("/exhibitions/").content.decode()
    assert "养老保险改革三十年" in listing
    page = client.get(reverse("exhibitions:page", args=[show.slug])).content.decode()
    assert "1992年全县养老保险改革动员大会照片" in page
    assert first.archival_code in page and second.archival_code in page
    assert 'name="viewport"' in page  # made for phones


def test_the_page_shows_no_id_number_and_masks_a_private_persons_name(client, exhibition):
    show, first, _second = exhibition
    page = client.get(reverse("exhibitions:page", args=[show.slug])).content.decode()
    assert not ID_NUMBER.search(page)
    assert "李秀英" not in page and "李**" in page


def test_a_name_is_shown_when_the_exhibit_marks_consent(client, exhibition):
    show, first, _second = exhibition
    show.sections.get().exhibits.filter(record=first).update(consent=True)
    page = client.get(reverse("exhibitions:page", args=[show.slug])).content.decode()
    assert "李秀英的第一张缴费凭证" in page
    assert not ID_NUMBER.search(page)  # an ID number never


def test_captions_in_the_visitors_language(client, exhibition):
    show, _first, _second = exhibition
    url = reverse("exhibitions:page", args=[show.slug])
    english = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "Thirty years of pension reform" in english and "The first receipt." in english
    traditional = client.get(url, headers={"accept-language": "zh-hant"}).content.decode()
    assert "養老保險改革三十年" in traditional  # made from the simplified title


def test_a_record_closed_through_the_service_disappears_at_once(client, archivist, exhibition):
    show, first, second = exhibition
    update_record(actor=archivist, record=second, values={"openness": "controlled"}, reason="复审")
    page = client.get(reverse("exhibitions:page", args=[show.slug])).content.decode()
    assert second.title not in page and second.archival_code not in page
    assert first.archival_code in page


def test_a_record_closed_straight_in_the_database_disappears_too(client, exhibition):
    show, first, second = exhibition
    url = reverse("exhibitions:page", args=[show.slug])
    image = reverse("exhibitions:image", args=[show.slug, show.sections.get().exhibits.first().pk])
    assert client.get(image).status_code == 200
    Record.objects.filter(pk=first.pk).update(openness="delayed")
    Record.objects.filter(pk=second.pk).update(state=Record.State.DESTROYED)
    page = client.get(url).content.decode()
    assert first.archival_code not in page and second.title not in page
    assert client.get(image).status_code == 404
    Record.objects.filter(pk=first.pk).update(openness="open", secrecy=Secrecy.INTERNAL)
    assert first.archival_code not in client.get(url).content.decode()


def test_a_draft_exhibition_is_not_public(client, archivist, open_record):
    draft = services.create_exhibition(
        actor=archivist, slug="draft-show", title={"zh_hans": "尚未审定的展览"}
    )
    section = services.add_section(actor=archivist, exhibition=draft, title={"zh_hans": "一"})
    services.add_exhibit(actor=archivist, section=section, record=open_record())
    services.submit_exhibition(actor=archivist, exhibition=draft)
    assert "尚未审定的展览" not in client.get("/exhibitions/").content.decode()
    assert client.get(reverse("exhibitions:page", args=["draft-show"])).status_code == 404


def test_only_a_leader_publishes(archivist, exhibition):
    show, _first, _second = exhibition
    other = services.create_exhibition(actor=archivist, slug="x", title={"zh_hans": "x"})
    with pytest.raises(PermissionDenied):
        services.publish_exhibition(actor=archivist, exhibition=other)


def test_a_controlled_or_secret_record_is_refused_with_the_reason(
    archivist, make_record, open_record
):
    show = services.create_exhibition(actor=archivist, slug="s", title={"zh_hans": "展"})
    section = services.add_section(actor=archivist, exhibition=show, title={"zh_hans": "一"})
    controlled = make_record(openness="controlled", secrecy=Secrecy.PUBLIC)
    secret = make_record(openness="open", secrecy=Secrecy.SECRET)
    with pytest.raises(ValidationError, match="Only open records are exhibited.*Controlled"):
        services.add_exhibit(actor=archivist, section=section, record=controlled)
    with pytest.raises(ValidationError, match="Secret records are never exhibited"):
        services.add_exhibit(actor=archivist, section=section, record=secret)
    assert not section.exhibits.exists()


def test_the_image_is_the_watermarked_preview(client, exhibition):
    show, first, _second = exhibition
    exhibit = show.sections.get().exhibits.get(record=first)
    answer = client.get(reverse("exhibitions:image", args=[show.slug, exhibit.pk]))
    assert answer["Content-Type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(answer.content)).convert("RGB")
    plain = Image.open(io.BytesIO(jpeg())).convert("RGB")
    assert picture.size == plain.size
    # the watermark's red letters: pixels far redder than the plain page's
    reddish = sum(1 for r, g, b in picture.get_flattened_data() if r - g > 20)
    assert reddish > 500


def test_visits_are_counted_for_the_statistics(client, exhibition):
    show, _first, _second = exhibition
    for _ in range(3):
        client.get(reverse("exhibitions:page", args=[show.slug]))
    client.get("/exhibitions/")
    today = datetime.date.today()
    assert selectors.visits_between(today, today) == [
        {"exhibition": "养老保险改革三十年", "slug": "pension-reform", "visits": 3}
    ]


def test_the_dashboard_shows_the_visits_of_the_year(client, exhibition, leader, logged_in):
    show, _first, _second = exhibition
    client.get(reverse("exhibitions:page", args=[show.slug]))
    client.get(reverse("exhibitions:page", args=[show.slug]))
    page = logged_in(leader).get(reverse("stats:dashboard")).content.decode()
    table = page[page.index('id="table-exhibitions"') :]
    assert "<td>养老保险改革三十年</td><td>2</td>" in table[: table.index("</details>")]
