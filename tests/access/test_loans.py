"""Loans of paper files: lend, return, due dates, the overdue list and the reminders."""

import datetime
import json

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from dangan.access import selectors, services
from dangan.access.models import Loan, Purpose

pytestmark = pytest.mark.django_db


def lend(clerk, record, **extra):
    values = {"borrower_name": "王科长", "purpose": Purpose.WORK, **extra}
    return services.lend(actor=clerk, record=record, **values)


def make_overdue(loan, days=3):
    Loan.objects.filter(pk=loan.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=days)
    )


def test_a_loan_is_due_after_the_default_days(records, clerk, settings):
    loan = lend(clerk, records["open"])
    assert loan.due_on == timezone.localdate() + datetime.timedelta(days=settings.DANGAN_LOAN_DAYS)
    assert not loan.is_overdue


def test_a_file_is_lent_to_one_borrower_at_a_time(records, clerk):
    lend(clerk, records["open"])
    with pytest.raises(ValidationError) as exc:
        lend(clerk, records["open"])
    assert exc.value.code == "already_lent"


def test_returned_file_can_be_lent_again(records, clerk):
    loan = lend(clerk, records["open"])
    services.return_loan(actor=clerk, loan=loan)
    with pytest.raises(ValidationError):
        services.return_loan(actor=clerk, loan=loan)
    lend(clerk, records["open"])


def test_overdue_list(records, clerk):
    late = lend(clerk, records["open"])
    lend(clerk, records["controlled"])
    make_overdue(late)
    assert [loan.pk for loan in selectors.overdue_loans(clerk)] == [late.pk]


def test_a_due_date_in_the_past_is_refused(records, clerk):
    with pytest.raises(ValidationError):
        lend(clerk, records["open"], due_on=timezone.localdate() - datetime.timedelta(days=1))


def test_reminders_mail_borrowers_once_a_day(records, clerk):
    late = lend(clerk, records["open"], borrower_email="wang@example.org")
    silent = lend(clerk, records["controlled"])
    make_overdue(late)
    make_overdue(silent)
    counts = services.send_reminders()
    assert counts == {"overdue": 2, "reminded": 1, "without_email": 1, "failed": 0}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wang@example.org"]
    assert records["open"].archival_code in mail.outbox[0].subject
    assert services.send_reminders()["reminded"] == 0
    assert len(mail.outbox) == 1


def test_loans_command_prints_json(records, clerk, capsys):
    late = lend(clerk, records["open"], borrower_email="wang@example.org")
    make_overdue(late, days=5)
    call_command("loans", "--remind", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["overdue"][0]["days_overdue"] == 5
    assert out["reminders"]["reminded"] == 1


def test_loan_pages(records, clerk, logged_in):
    client = logged_in(clerk)
    response = client.post(
        "/access/loans/",
        {"record": records["open"].archival_code, "borrower_name": "王科长", "purpose": "work"},
    )
    assert response.status_code == 302
    loan = Loan.objects.get()
    make_overdue(loan)
    home = client.get("/access/")
    assert b'id="overdue"' in home.content
    assert client.post(f"/access/loans/{loan.pk}/return/").status_code == 302
    assert Loan.objects.get().returned_at is not None


def test_overdue_loans_are_on_the_dashboard_of_those_who_see_the_record(records, clerk, make_user):
    from dangan.accounts.models import Role
    from dangan.stats.selectors import dashboard

    late = lend(clerk, records["open"])
    make_overdue(late, days=2)
    leader = make_user(role=Role.LEADER)
    blind = make_user(role=Role.LEADER, grants=())
    rows = dashboard(leader)["overdue_loans"]
    assert [(r["record"], r["days"]) for r in rows] == [(records["open"].archival_code, 2)]
    assert dashboard(blind)["overdue_loans"] == []
