"""Remote requests (异地查档) between two live installations: messages per second and the time
from ask to delivery when the holder approves by its rules (open records).

    .venv/bin/python bench/remote.py                      # 1,000 requests
    .venv/bin/python bench/remote.py --requests 50 --json

Two installations on loopback, each its own data directory (SQLite) and its own ``dangan run``
(waitress and the worker), registered as each other's peers as an operator would
(``dangan peers key`` / ``dangan peers add``). The holder B keeps one open record (with its
person) for each of ``--requests`` persons. The desk of A asks for each of them
(``remote.services.ask`` in one ``dangan shell``, as fast as it can); A's worker sends the
requests, B's rules approve each at once and issue its certificate (WeasyPrint, SM2), B's worker
sends the answer and the certificate with its PDF, A stores it. Three signed messages a request.

It prints the messages per second (all messages of the run over the time from the first ask to
the last delivery) and p50/p95 of ask → delivered at A (``created_at`` → ``delivered_at``).
"""

import argparse
import json
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests.remote.live import Installation, pair, wait_for  # noqa: E402

ASK = """
import time
from dangan.accounts.models import User
from dangan.remote import services
admin = User.objects.get(username="admin")
for number in {numbers!r}:
    services.ask(actor=admin, holder="B", id_number=number, purpose="personal")
"""
FIGURES = """
import json
from dangan.remote.models import RemoteRequest
rows = list(RemoteRequest.objects.filter(asked_here=True, state="delivered")
            .values_list("created_at", "delivered_at"))
print(json.dumps([[a.timestamp(), d.timestamp()] for a, d in rows]))
"""


def id_numbers(count: int) -> list[str]:
    """``count`` distinct valid ID numbers (region 320981, born 1950–1999)."""
    from stdnum.cn import ric

    bodies = [
        f"320981{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n // 50:03d}" for n in range(count)
    ]
    return [body + ric.calc_check_digit(body + "0") for body in bodies]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    numbers = id_numbers(args.requests)
    with tempfile.TemporaryDirectory(prefix="dangan-remote-bench-") as tmp:
        root = pathlib.Path(tmp)
        a = Installation("A", "东台市档案馆", root / "a")
        b = Installation("B", "射阳县档案馆", root / "b", auto_approve=True)
        for site in (a, b):
            site.data_dir.mkdir()
        try:
            a.start(), b.start()
            pair(a, b)
            b.seed(numbers, openness="open")
            started = time.time()
            a.shell(ASK.format(numbers=numbers))
            asked = time.time()
            wait_for(
                lambda: (
                    a.shell(
                        "from dangan.remote.models import RemoteRequest\n"
                        "print(RemoteRequest.objects.filter(state='delivered').count())"
                    ).strip()
                    == str(len(numbers))
                ),
                timeout=args.timeout,
                every=2,
            )
            spans = json.loads(a.shell(FIGURES))
        finally:
            a.stop(), b.stop()
    first, last = min(s for s, _ in spans), max(d for _, d in spans)
    latencies = [d - s for s, d in spans]
    result = {
        "requests": len(spans),
        "messages": 3 * len(spans),
        "messages_per_second": round(3 * len(spans) / (last - first), 2),
        "ask_seconds": round(asked - started, 1),
        "ask_to_delivery_p50_s": round(percentile(latencies, 50), 2),
        "ask_to_delivery_p95_s": round(percentile(latencies, 95), 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['requests']} requests, {result['messages']} signed messages between two "
            f"installations: {result['messages_per_second']} messages/s; ask → delivered "
            f"p50 {result['ask_to_delivery_p50_s']} s, p95 {result['ask_to_delivery_p95_s']} s"
        )


if __name__ == "__main__":
    main()
