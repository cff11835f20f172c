"""The apps stand in layers, and an app imports only from below (docs/architecture.md, "Layers").

Read bottom to top; inside a layer, left to right: an app may import the apps of the layers
under it and those to its left in its own layer, never one above or to its right. Imports inside
functions count (hiding an import in a function does not untie a knot); migrations and tests do
not. A lower app that must tell a higher one sends a signal; one that must ask uses a hook
(``dangan.core.hooks``).
"""

import ast
from pathlib import Path

DANGAN = Path(__file__).resolve().parent.parent / "dangan"

#: The one order of the apps, bottom to top. A new app takes its place here.
LAYERS = [
    ("ground", ["security", "audit", "accounts", "alerts", "jobs", "people"]),
    ("catalogue", ["catalogue"]),
    ("content", ["content"]),
    ("work", ["digitize", "search", "integrity", "intake", "stacks", "assist"]),
    (
        "services to people",
        ["access", "remote", "portal", "appraisal", "compilation", "stats", "oversight"],
    ),
    ("top", ["api", "ops", "site", "demo"]),
]
#: Not apps: the ground under every app (no models), which imports no app at all.
CORE = "core"
#: The project's glue beside the apps, above them all: may import any app.
GLUE = {"__init__", "settings", "urls", "wsgi", "cli"}

RANK = {app: rank for rank, app in enumerate(a for _layer, apps in LAYERS for a in apps)}
LAYER_OF = {app: layer for layer, apps in LAYERS for app in apps}


def apps_on_disk() -> set[str]:
    return {p.parent.name for p in DANGAN.glob("*/apps.py")}


def dangan_imports(path: Path):
    """``(line, name)`` of every ``dangan.<name>`` that the module at ``path`` imports."""
    package = path.relative_to(DANGAN.parent).with_suffix("").parts[:-1]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: tuple[str, ...]):
    """``(line, name)`` of every ``dangan.<name>`` imported by ``source``, a module of
    ``package``, at any depth (inside functions too)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *(node.module or "").split(".")]).rstrip(".")
            else:
                module = node.module or ""
            # ``from dangan import search`` imports the app search
            names = [f"{module}.{a.name}" for a in node.names] if module == "dangan" else [module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) > 1 and parts[0] == "dangan":
                yield node.lineno, parts[1]


def modules_of(package: str):
    for path in sorted((DANGAN / package).rglob("*.py")):
        inside = path.relative_to(DANGAN / package).parts
        if "migrations" not in inside and "tests" not in inside:
            yield path


def test_every_app_has_its_place_in_the_layers():
    missing = apps_on_disk() - RANK.keys()
    assert not missing, f"Give these apps their place in LAYERS (and the picture): {missing}"
    gone = RANK.keys() - apps_on_disk()
    assert not gone, f"LAYERS names apps that are no more: {gone}"


def test_no_app_imports_a_higher_one():
    upward = []
    for app in sorted(RANK):
        for path in modules_of(app):
            for line, other in dangan_imports(path):
                if other in RANK and other != app and RANK[other] > RANK[app]:
                    where = path.relative_to(DANGAN.parent)
                    upward.append(
                        f"{where}:{line}: {app} ({LAYER_OF[app]}) imports {other} "
                        f"({LAYER_OF[other]})"
                    )
    assert not upward, (
        "An app imports only from below (docs/architecture.md); tell a higher app with a "
        "signal, ask it with a hook (dangan.core.hooks):\n" + "\n".join(upward)
    )


def test_the_core_imports_no_app():
    """dangan/core/ and the modules beside the apps that are not glue (dangan/pdf.py, …)."""
    beside = [p for p in sorted(DANGAN.glob("*.py")) if p.stem not in GLUE]
    found = [
        f"{path.relative_to(DANGAN.parent)}:{line}: imports {other}"
        for path in [*modules_of(CORE), *beside]
        for line, other in dangan_imports(path)
        if other in RANK
    ]
    assert not found, "dangan.core is under every app and imports none:\n" + "\n".join(found)


def test_the_check_sees_every_form_of_import_at_any_depth():
    source = (
        "import dangan.api.urls\n"
        "from dangan import search\n"
        "from ..intake import services\n"
        "def f():\n"
        "    from dangan.stats.selectors import totals\n"
    )
    found = [name for _line, name in imports_in(source, ("dangan", "catalogue"))]
    assert sorted(found) == ["api", "intake", "search", "stats"]
