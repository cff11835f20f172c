# The steps of copy requests move to the one mechanism of every approval (accounts.ApprovalStep).

from django.db import migrations


def move_steps(apps, schema_editor):
    RequestApproval = apps.get_model("access", "RequestApproval")
    ApprovalStep = apps.get_model("accounts", "ApprovalStep")
    ApprovalStep.objects.bulk_create(
        ApprovalStep(
            kind="copy_request",
            subject_id=a.request_id,
            step=a.step,
            role=a.role,
            approver_id=a.approver_id,
            at=a.at,
            reason=a.reason,
        )
        for a in RequestApproval.objects.order_by("request_id", "step")
    )


def move_back(apps, schema_editor):
    RequestApproval = apps.get_model("access", "RequestApproval")
    ApprovalStep = apps.get_model("accounts", "ApprovalStep")
    RequestApproval.objects.bulk_create(
        RequestApproval(
            request_id=s.subject_id,
            step=s.step,
            role=s.role,
            approver_id=s.approver_id,
            at=s.at,
            reason=s.reason,
        )
        for s in ApprovalStep.objects.filter(kind="copy_request")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0005_roles_as_data'),
        ('accounts', '0009_approval_steps'),
    ]

    operations = [
        migrations.RunPython(move_steps, move_back),
        migrations.DeleteModel(
            name='RequestApproval',
        ),
    ]
