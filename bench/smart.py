"""Benchmark of smart help: classification accuracy, duplicate precision/recall, scan time.

    .venv/bin/python bench/smart.py                                   # the issue's size
    .venv/bin/python bench/smart.py --demo-persons 2000 --scan-persons 20000   # quick check
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_smart .venv/bin/python bench/smart.py

1. Classification: ``dangan demo`` with ``--demo-persons`` persons (20,000; their records in all
   twelve categories, through the real services: slow, minutes per thousand) in a fresh data
   directory; one record in five is held out, the model trained on the others
   (``classifier.train(record_ids=…)``), and each held-out record classified from its title,
   responsible party and page text. Prints the training time, the share proposed and the
   accuracy of category and retention over all held-out records (unsure counts as wrong;
   target: category >= 95 %).
2. Duplicates: ``--scan-persons`` persons (100,000) written by bulk insert (lives drawn as the
   demo draws them), ``--twins`` of them (500) given a seeded twin, in turn: the old 15-digit
   number kept as typed; one digit of the order code mistyped (check digit passing); the name in
   traditional characters with two neighbouring digits swapped; a homophone name with a digit
   of the region code mistyped. Times ``duplicates.person_pairs()`` (the whole scan) and prints
   precision (proposals that are seeded twins) and recall (seeded twins proposed); targets:
   100 % / >= 95 %, the scan <= 60 s for 100,000 persons.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HOMOPHONES = dict(
    zip(
        "伟炜华桦明铭丽莉军君红虹芳方英瑛平萍杰洁静靖磊蕾刘柳张章王汪李里陈晨林琳",
        "炜伟桦华铭明莉丽君军虹红方芳瑛英萍平洁杰靖静蕾磊柳刘章张汪王里李晨陈琳林",
        strict=True,
    )
)


def bench_classification(persons: int) -> None:
    from dangan.assist import classifier
    from dangan.catalogue.models import Record
    from dangan.demo.generator import generate

    if not Record.objects.exists():
        t = time.perf_counter()
        generate(persons=persons, seed=7, password_file=Path(os.environ["DANGAN_DATA_DIR"]) / "pw")
        print(f"demo: {persons} persons in {time.perf_counter() - t:.0f} s")
    ids = list(Record.objects.order_by("pk").values_list("pk", flat=True))
    held = set(ids[::5])
    t = time.perf_counter()
    model = classifier.train(record_ids=[pk for pk in ids if pk not in held])
    trained = time.perf_counter() - t
    texts = classifier._page_texts(sorted(held))
    rows = Record.objects.filter(pk__in=held).values_list(
        "pk", "title", "responsible", "category__code", "retention"
    )
    proposed = category_right = retention_right = 0
    t = time.perf_counter()
    for pk, title, responsible, category, retention in rows.iterator(chunk_size=5000):
        proposal = classifier.classify(
            title=title, responsible=responsible, page_text=texts.get(pk, "")
        )
        proposed += proposal.category is not None
        category_right += proposal.category == category
        retention_right += proposal.retention == retention
    each = (time.perf_counter() - t) / max(1, len(held)) * 1000
    n = max(1, len(held))
    print(
        f"classification: trained on {model.samples} records in {trained:.1f} s; "
        f"{len(held)} held out: proposed {proposed / n:.1%}, "
        f"category right {category_right / n:.2%}, "
        f"retention right {retention_right / n:.2%}; {each:.1f} ms a file "
        f"(load {os.getloadavg()[0]:.1f})"
    )


def _body_with(body: str, i: int, digit: str) -> str:
    return body[:i] + digit + body[i + 1 :]


def _number(body: str) -> str:
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")


def _twin(person, kind: int, rng, taken: set):
    """A seeded twin of ``person`` (a ``Person`` not yet saved), or None if it cannot be made."""
    from dangan.demo.generator import _to_traditional
    from dangan.people.models import Person
    from dangan.people.names import fold

    body, name = person.id_number[:17], person.name
    if kind == 0:  # the old 15-digit number, kept as typed
        number = person.id_number[:6] + person.id_number[8:17]
    elif kind == 1:  # one digit of the order code mistyped
        number = _number(_body_with(body, 14, str((int(body[14]) + rng.randrange(1, 10)) % 10)))
    elif kind == 2:  # traditional characters, two neighbouring digits swapped
        if body[14] == body[15]:
            return None
        number = _number(body[:14] + body[15] + body[14] + body[16])
        name = _to_traditional().convert(name)
    else:  # a homophone, a digit of the region code mistyped
        at = next((i for i, c in enumerate(name) if c in HOMOPHONES), None)
        if at is None:
            return None
        name = name[:at] + HOMOPHONES[name[at]] + name[at + 1 :]
        number = _number(_body_with(body, 5, str((int(body[5]) + 1) % 10)))
    if number in taken:
        return None
    taken.add(number)
    return Person(
        id_number=number,
        id_number_15=number[:6] + number[8:17] if len(number) == 18 else number,
        name=name,
        name_folded=fold(name),
        id_reversed=number[::-1],
        sex=person.sex,
        birth_date=person.birth_date,
    )


def bench_duplicates(count: int, twins: int) -> None:
    from dangan.assist import duplicates
    from dangan.demo.generator import Generator
    from dangan.people.models import Person
    from dangan.people.names import fold

    rng = random.Random(3)
    generator = Generator(seed=5)
    t = time.perf_counter()
    people = []
    for _ in range(count):
        life = generator._life()
        people.append(
            Person(
                id_number=life.id_number,
                id_number_15=life.id_number[:6] + life.id_number[8:17],
                name=life.name,
                name_folded=fold(life.name),
                id_reversed=life.id_number[::-1],
                sex=life.sex,
                birth_date=life.birth,
            )
        )
    Person.objects.bulk_create(people, batch_size=5000)
    originals = {p.id_number: p for p in Person.objects.all()}
    seeded, twin_rows, kind = [], [], 0
    for person in rng.sample(list(originals.values()), min(twins * 2, len(originals))):
        if len(seeded) >= twins:
            break
        twin = _twin(person, kind % 4, rng, generator.taken)
        if twin is None:
            continue
        kind += 1
        twin_rows.append(twin)
        seeded.append((person.pk, twin.id_number))
    Person.objects.bulk_create(twin_rows, batch_size=5000)
    ids = dict(
        Person.objects.filter(id_number__in=[n for _pk, n in seeded]).values_list("id_number", "pk")
    )
    wanted = {tuple(sorted((pk, ids[number]))) for pk, number in seeded}
    print(
        f"duplicates: {Person.objects.count()} persons, {len(wanted)} seeded twins, "
        f"filled in {time.perf_counter() - t:.0f} s"
    )
    t = time.perf_counter()
    found = duplicates.person_pairs()
    seconds = time.perf_counter() - t
    pairs = {(f.a, f.b) for f in found}
    hits = pairs & wanted
    precision = len(hits) / len(pairs) if pairs else 1.0
    recall = len(hits) / len(wanted) if wanted else 1.0
    print(
        f"duplicates: scan {seconds:.1f} s, {len(pairs)} proposed, precision {precision:.1%}, "
        f"recall {recall:.1%} (load {os.getloadavg()[0]:.1f})"
    )
    for f in found:
        if (f.a, f.b) not in wanted:
            print("  not seeded:", f.a, f.b, f.score, f.reason)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--demo-persons", type=int, default=20_000)
    parser.add_argument("--scan-persons", type=int, default=100_000)
    parser.add_argument("--twins", type=int, default=500)
    parser.add_argument("--data-dir", help="use this data folder (default: a temporary one)")
    parser.add_argument("--skip-classification", action="store_true")
    parser.add_argument("--skip-duplicates", action="store_true")
    args = parser.parse_args()

    directory = Path(args.data_dir or tempfile.mkdtemp(prefix="dangan-bench-smart-"))
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["DANGAN_DATA_DIR"] = str(directory)
    os.environ["DANGAN_ASSIST_ROUND_DAYS"] = "0"
    os.environ["DANGAN_FIXITY_SCHEDULE"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(
        f"cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, data: {directory}, "
        f"database: {django.db.connection.vendor}"
    )
    if not args.skip_classification:
        bench_classification(args.demo_persons)
    if not args.skip_duplicates:  # the demo's persons stay: the scan covers them too
        bench_duplicates(args.scan_persons, args.twins)


if __name__ == "__main__":
    main()
