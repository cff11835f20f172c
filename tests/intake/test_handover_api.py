"""The hand-over API: a business system submits a list with files; a town resumes an upload
cut off in the middle and gets the same digests as the file it sent."""

import base64
import hashlib
import json

import pytest
from rest_framework.test import APIClient

from dangan.content.digests import sm3 as new_sm3
from dangan.content.services import fill_missing_sm3
from tests.security.test_antivirus import clamd  # noqa: F401 - a fixture

pytestmark = [pytest.mark.usefixtures("content_dir"), pytest.mark.urls("tests.intake.urls")]


@pytest.fixture
def api(town_clerk):
    client = APIClient()
    client.force_authenticate(town_clerk)
    return client


def _checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def _patch(api, url, offset, data, checksum=None):
    return api.generic(
        "PATCH",
        url,
        data,
        content_type="application/offset+octet-stream",
        HTTP_TUS_RESUMABLE="1.0.0",
        HTTP_UPLOAD_OFFSET=str(offset),
        HTTP_UPLOAD_CHECKSUM=checksum or _checksum(data),
    )


def test_upload_cut_in_the_middle_resumes_with_the_same_digests(
    api, scan, town_clerk, fonds, category, id_number
):
    data = scan(3) + b"\0" * 300_000  # a JPEG with trailing bytes: about 300 kB
    sha256 = hashlib.sha256(data).hexdigest()
    digest = new_sm3()
    digest.update(data)
    sm3 = digest.hexdigest()
    meta = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in (("filename", "扫描件.jpg"), ("sha256", sha256))
    )
    created = api.post(
        "/api/v1/uploads/",
        HTTP_TUS_RESUMABLE="1.0.0",
        HTTP_UPLOAD_LENGTH=str(len(data)),
        HTTP_UPLOAD_METADATA=meta,
    )
    assert created.status_code == 201, created.content
    url = created["Location"]
    chunk = 100_000
    assert _patch(api, url, 0, data[:chunk]).status_code == 204
    # The line breaks: the second chunk arrives cut short, and its checksum (of the whole
    # chunk) does not match what came.
    cut = _patch(api, url, chunk, data[chunk : chunk + 40_000], _checksum(data[chunk : 2 * chunk]))
    assert cut.status_code == 460
    head = api.head(url, HTTP_TUS_RESUMABLE="1.0.0")
    assert head.status_code == 200 and head["Upload-Offset"] == str(chunk)
    # A chunk sent at the wrong offset is refused with where the upload stands.
    wrong = _patch(api, url, chunk + 40_000, data[chunk + 40_000 : 2 * chunk])
    assert wrong.status_code == 409 and wrong["Upload-Offset"] == str(chunk)
    offset = chunk
    while offset < len(data):
        answer = _patch(api, url, offset, data[offset : offset + chunk])
        assert answer.status_code == 204
        offset = int(answer["Upload-Offset"])
    assert answer["Dangan-Sha256"] == sha256
    # SM3 is computed after the bytes are stored: the last answer cannot tell it yet, GET can.
    assert "Dangan-Sm3" not in answer
    assert api.get(url, HTTP_TUS_RESUMABLE="1.0.0").json()["sm3"] is None
    fill_missing_sm3()
    assert api.get(url, HTTP_TUS_RESUMABLE="1.0.0").json()["sm3"] == sm3
    uid = url.rstrip("/").rsplit("/", 1)[1]
    listing = {
        "fonds": fonds.code,
        "category": category.code,
        "title": "乡镇断点续传移交",
        "send": True,
        "items": [
            {
                "values": {
                    "date": "2022-06-01",
                    "responsible": "城关镇社保所",
                    "legacy_number": "U-1",
                },
                "persons": [{"id_number": id_number(), "name": "赵六"}],
                "files": [{"upload": uid, "filename": "扫描件.jpg"}],
            }
        ],
    }
    answer = api.post("/api/v1/handovers/", listing, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["state"] == "sent" and body["items"][0]["files"][0]["sha256"] == sha256
    checks = {c["id"]: c["verdict"] for c in body["report"]["checks"]}
    assert checks["YJ-1-1"] == "pass" and checks["YJ-2-2"] == "pass"


def test_business_system_submits_a_list_with_files_and_a_wrong_digest_is_named(
    api, scan, fonds, category, id_number
):
    good, bad = scan(5), scan(6)
    listing = {
        "fonds": fonds.code,
        "category": category.code,
        "title": "业务系统移交",
        "send": True,
        "items": [
            {
                "values": {"date": f"2021-01-0{n}", "responsible": "就业服务中心"},
                "persons": [{"id_number": id_number(), "name": f"钱{n}"}],
                "files": [
                    {
                        "field": f"f{n}",
                        "sha256": hashlib.sha256(good if n == 1 else b"other").hexdigest(),
                    }
                ],
            }
            for n in (1, 2)
        ],
    }
    answer = api.post(
        "/api/v1/handovers/",
        {"list": json.dumps(listing), "f1": _file("1.jpg", good), "f2": _file("2.jpg", bad)},
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    report = answer.json()["report"]
    assert report["passed"] is False
    [fixity] = [c for c in report["checks"] if c["id"] == "YJ-1-1"]
    assert fixity["verdict"] == "fail" and fixity["evidence"][0].startswith("2/1 2.jpg")
    assert api.get(f"/api/v1/handovers/{answer.json()['id']}/").json()["state"] == "sent"


def test_someone_elses_upload_is_not_found(api, make_user, town):
    from dangan.accounts.models import Role

    sha = hashlib.sha256(b"x").hexdigest()
    meta = f"filename eA==,sha256 {base64.b64encode(sha.encode()).decode()}"
    url = api.post("/api/v1/uploads/", HTTP_UPLOAD_LENGTH="1", HTTP_UPLOAD_METADATA=meta)[
        "Location"
    ]
    other = APIClient()
    other.force_authenticate(make_user(role=Role.TOWN_CLERK, unit=town, grants=()))
    assert other.head(url).status_code == 404


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@pytest.mark.usefixtures("clamd")
def test_a_list_with_a_malicious_file_is_refused_and_the_refusal_stays_audited(
    api, scan, town_clerk, fonds, category, id_number
):
    from dangan.audit.models import AuditEvent
    from dangan.intake.models import HandoverList
    from tests.security.test_antivirus import infected_jpeg

    item = {
        "values": {"date": "2021-01-01", "responsible": "就业服务中心"},
        "persons": [{"id_number": id_number(), "name": "钱一"}],
        "files": [{"field": "f1"}, {"field": "f2"}],
    }
    listing = {"fonds": fonds.code, "category": category.code, "title": "病毒", "items": [item]}
    answer = api.post(
        "/api/v1/handovers/",
        {
            "list": json.dumps(listing),
            "f1": _file("1.jpg", scan(1)),
            "f2": _file("2.jpg", infected_jpeg()),
        },
        format="multipart",
    )
    assert answer.status_code == 400
    assert not HandoverList.objects.exists()  # the list is all or nothing
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.REFUSE)
    assert (event.actor, event.detail["file"]) == (town_clerk, "2.jpg")
