"""Background work of the demo (a worker runs these)."""

from django_tasks import task


@task()
def demo_scans_task(seed: int) -> dict:
    """Draw the demo's scanned forms after a start that left them to the worker (``dangan run``);
    their pages are then queued for reading like any upload's."""
    from .generator import Generator

    generator = Generator(seed=seed)
    generator.scanned_forms()
    return {"scans": generator.summary.scans}
