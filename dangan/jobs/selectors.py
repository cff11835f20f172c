"""Reading background jobs: each user sees only the jobs they started."""

from .models import Job


def jobs_for(user):
    if not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    return Job.objects.filter(owner=user)
