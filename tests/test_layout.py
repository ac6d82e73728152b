"""The package's layout shows its flow: no module imports from a stage after its own (docs/architecture.md)."""

import ast
from pathlib import Path

import kwanalytics

PACKAGE = Path(kwanalytics.__file__).parent

# The stages in order (docs/architecture.md). A module may import from its own stage or an earlier one.
STAGES = {
    "kwanalytics": 0, "kwanalytics.errors": 0, "kwanalytics.resources": 0, "kwanalytics.safety": 0,
    "kwanalytics.settings": 0, "kwanalytics.calendar": 0, "kwanalytics.audit": 0,
    "kwanalytics.schema": 1,
    "kwanalytics.store": 2, "kwanalytics.workspace": 2,
    "kwanalytics.ingest": 3,
    "kwanalytics.metrics": 4,
    "kwanalytics.evidence": 5,
    "kwanalytics.render": 6,
    "kwanalytics.demo": 7, "kwanalytics.templates": 7,
    "kwanalytics.output": 8, "kwanalytics.cli": 8,
}


def stage(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in STAGES and (n > 1 or len(parts) == 1):
            return STAGES[".".join(parts[:n])]
    raise AssertionError(f"{module} belongs to no stage: add it to STAGES and docs/architecture.md")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, name: str) -> set[str]:
    """Every kwanalytics module a file imports, at the top or inside a function."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kwanalytics")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("kwanalytics"):
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}".replace(".", "/") and
                          (PACKAGE.parent / f"{base}.{a.name}".replace(".", "/")).exists() or
                          (PACKAGE.parent / (f"{base}.{a.name}".replace(".", "/") + ".py")).exists()
                          else base for a in node.names}
    return found


def test_every_module_belongs_to_a_stage_and_imports_only_backwards():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 30
    backwards = []
    for path in modules:
        name = module_name(path)
        for target in imported(path, name):
            if stage(target) > stage(name):
                backwards.append(f"{name} (stage {stage(name)}) imports {target} (stage {stage(target)})")
    assert backwards == []


def test_a_backward_import_is_caught(tmp_path):
    # The check itself must be able to fail: a metric importing the renderer is reported.
    fake = PACKAGE / "metrics" / "impact.py"
    names = imported(fake, "kwanalytics.metrics.impact")
    assert all(stage(n) <= stage("kwanalytics.metrics.impact") for n in names)
    assert stage("kwanalytics.evidence.charts") > stage("kwanalytics.metrics.impact")
    bad = tmp_path / "bad.py"
    bad.write_text("from kwanalytics.evidence.charts import COLOURS\n")
    assert stage(next(iter(imported(bad, "kwanalytics.metrics.bad")))) > stage("kwanalytics.metrics.bad")


def test_architecture_doc_names_every_subpackage():
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    for sub in sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")):
        assert f"{sub}/" in doc, f"docs/architecture.md does not describe kwanalytics/{sub}/"


def test_architecture_doc_names_every_module():
    # the stage table is where a newcomer looks for a module: one left out of it is one nobody finds
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    modules = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")
    missing = [m for m in modules if m not in doc]
    assert modules and not missing, f"docs/architecture.md does not name: {', '.join(missing)}"
