"""The user's background jobs: a list, one job's progress, its JSON status and its download."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import registry, selectors, services
from .models import Job


@login_required
@require_GET
def job_list(request):
    jobs = selectors.jobs_for(request.user)[:200]
    return render(request, "jobs/list.html", {"jobs": jobs})


@login_required
@require_GET
def job_detail(request, pk):
    job = get_object_or_404(selectors.jobs_for(request.user), pk=pk)
    try:
        kind = registry.kind(job.kind)
    except LookupError:
        kind = None
    page = kind.page(job) if kind is not None and kind.page else None
    return render(request, "jobs/detail.html", {"job": job, "page": page})


@login_required
@require_GET
def job_status(request, pk):
    """For a page's script or a county's own tools: the job's state and progress."""
    job = get_object_or_404(selectors.jobs_for(request.user), pk=pk)
    return JsonResponse(
        {
            "id": job.pk,
            "kind": job.kind,
            "title": job.title,
            "state": job.state,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "message": job.message,
            "download": (
                request.build_absolute_uri(f"{job.get_absolute_url()}download/")
                if job.state == Job.State.DONE
                else None
            ),
        }
    )


@login_required
@require_GET
def job_download(request, pk):
    job = get_object_or_404(selectors.jobs_for(request.user), pk=pk, state=Job.State.DONE)
    try:
        path = services.result_path(job)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except (LookupError, FileNotFoundError):
        raise Http404 from None
    services.record_download(actor=request.user, job=job)
    return FileResponse(handle, as_attachment=True, filename=job.file_name)
