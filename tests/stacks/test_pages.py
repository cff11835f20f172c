"""The stacks pages and the sensor endpoint, as an archivist and a sensor use them."""

import pytest
from django.urls import reverse

from dangan.accounts.models import Role
from dangan.stacks import services
from dangan.stacks.models import Alert, Box, Placement


def test_only_archivists_see_the_stacks(logged_in, make_user):
    leader = make_user(role=Role.LEADER)
    assert logged_in(leader).get(reverse("stacks:room-list")).status_code == 403


def test_archivist_creates_a_box_on_a_shelf_places_a_record_and_prints_labels(
    logged_in, archivist, room, fonds, category, make_record
):
    client = logged_in(archivist)
    record = make_record()
    response = client.post(
        reverse("stacks:box-create"),
        {
            "fonds": fonds.pk,
            "category": category.pk,
            "year": 2001,
            "spine": 30,
            "location": "k1-01-02-03",
        },
    )
    box = Box.objects.get()
    assert response.status_code == 302 and box.shelf.code == "K1-01-02-03"
    page = client.post(
        reverse("stacks:box-detail", args=[box.pk]),
        {"action": "place", "codes": record.archival_code},
        follow=True,
    ).content.decode()
    assert record.title in page
    assert Placement.objects.get(record=record).box == box
    labels = client.get(reverse("stacks:box-labels", args=[box.pk]))
    assert labels["Content-Type"] == "application/pdf"
    assert labels.content.startswith(b"%PDF")


def test_labels_carry_the_box_code_and_box_note_in_chinese(archivist, room, fonds, category):
    import shutil
    import subprocess
    import tempfile

    from dangan.stacks import labels

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    box = services.create_box(actor=archivist, fonds=fonds, category=category, year=2001, spine=40)
    services.update_box_note(actor=archivist, box=box, note="盒内缺第3件", arranged_by="王静")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(labels.box_labels_pdf([box]))
        f.flush()
        text = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True).stdout
    text = "".join(text.split())
    assert box.code in text
    assert "备考表" in text and "盒内缺第3件" in text and "王静" in text


def test_scanner_marks_boxes_found_in_an_inventory(logged_in, archivist, room, fonds):
    box = services.create_box(
        actor=archivist, fonds=fonds, shelf=services.find_shelf("K1-01-01-01")
    )
    client = logged_in(archivist)
    response = client.post(reverse("stacks:inventory-start", args=[room.pk]))
    url = response["Location"]
    page = client.post(url, {"code": box.code + "\n"}, follow=True).content.decode()
    assert "Missing" not in page or "(0)" in page
    assert box.code in page


@pytest.mark.urls("tests.stacks.urls")
def test_sensor_posts_readings_and_hears_of_the_alert(client, archivist, room):
    client.force_login(archivist)
    url = reverse("api:stacks-room-readings", args=["k1"])
    body = {
        "readings": [
            {"at": "2026-07-01T08:00:00+08:00", "temperature": 20, "humidity": 50},
            {"at": "2026-07-01T09:00:00+08:00", "temperature": 20.5, "humidity": 66},
            {"at": "2026-07-01T10:00:00+08:00", "temperature": 21, "humidity": 67},
        ]
    }
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["stored"] == 3
    assert [a["kind"] for a in response.json()["alerts"]].count("humidity") == 1
    assert Alert.objects.filter(kind="humidity").count() == 1
    bad = client.post(url, {"readings": [{"at": "yesterday"}]}, content_type="application/json")
    assert bad.status_code == 400


@pytest.mark.urls("tests.stacks.urls")
def test_sensor_needs_an_archivist_account(client, make_user, room):
    client.force_login(make_user(role=Role.READING_CLERK))
    url = reverse("api:stacks-room-readings", args=["K1"])
    body = {"readings": [{"at": "2026-07-01T08:00:00+08:00", "temperature": 30}]}
    assert client.post(url, body, content_type="application/json").status_code == 403


def test_room_page_draws_from_json_and_closes_alerts(logged_in, archivist, room):
    client = logged_in(archivist)
    client.post(
        reverse("stacks:reading-create", args=[room.pk]),
        {"at": "2026-07-01T08:00", "temperature": "30"},
    )
    alert = Alert.objects.get()
    page = client.get(reverse("stacks:room-detail", args=[room.pk])).content.decode()
    assert 'id="room-series" type="application/json"' in page
    assert "style=" not in page and "<style" not in page
    client.post(reverse("stacks:alert-close", args=[alert.pk]), {"handling": "开空调"})
    alert.refresh_from_db()
    assert alert.handling == "开空调"
