"""The lock file (requirements/lock.txt, `make lock`) covers every dependency pyproject.toml names, with the
extras it asks for, at a version pyproject allows, with hashes; and the packages whose data the tests read
(the `holidays` package's holiday names and dates) are installed at the locked version."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"
#: packages whose shipped data the tests compare with fixed expectations (test_calendar.py's 2026 SKB)
DATA_PACKAGES = ("holidays",)


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes); a name the lock pins twice (by Python version) keeps the Python 3.11 pin."""
    text = LOCK.read_text(encoding="utf-8")
    pins: dict[str, tuple[str, list[str]]] = {}
    env = default_environment() | {"python_version": "3.11", "python_full_version": "3.11.2"}
    # each requirement is one logical line: "name==version ; marker \ --hash=... \ --hash=..."
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        block = re.sub(r"\s*#.*", "", block)  # comments ("# via ...")
        if not block.strip():
            continue
        head, *rest = block.split("\\", 1)
        req = Requirement(head.strip())
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", rest[0] if rest else "")
        (spec,) = req.specifier
        name = canonicalize_name(req.name)
        if req.marker is not None and not req.marker.evaluate(env | {"extra": ""}):
            pins.setdefault(name, (spec.version, hashes))  # kept only if no pin applies to 3.11
            continue
        pins[name] = (spec.version, hashes)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        names += extra
    return [Requirement(n) for n in names]


def test_every_pin_is_exact_and_hashed() -> None:
    pins = _locked()
    assert len(pins) > 30
    for name, (version, hashes) in pins.items():
        assert Version(version), name
        assert hashes, f"{name}=={version} has no --hash in {LOCK.name}"


@pytest.mark.parametrize("req", _declared(), ids=str)
def test_lock_covers_every_declared_dependency(req: Requirement) -> None:
    pins = _locked()
    name = canonicalize_name(req.name)
    assert name in pins, f"{req} (pyproject.toml) is not in {LOCK.relative_to(ROOT)}: run `make lock`"
    version, _ = pins[name]
    assert req.specifier.contains(version, prereleases=True), (
        f"{LOCK.relative_to(ROOT)} pins {name}=={version}, pyproject.toml asks {req}: run `make lock`"
    )
    # an extra (psycopg[binary]) brings its own packages: they must be locked too
    if req.extras:
        requires = importlib.metadata.requires(req.name) or []
        for extra in req.extras:
            for dep in map(Requirement, requires):
                if dep.marker is not None and dep.marker.evaluate({"extra": extra}) and "extra" in str(dep.marker):
                    assert canonicalize_name(dep.name) in pins, f"{dep.name} ({req}) is not locked"


def test_lock_names_nothing_pyproject_does_not_need() -> None:
    """Every pinned package is a declared dependency or says which locked package requires it (uv's
    "# via" note), so nothing is left behind after a removal."""
    pins = _locked()
    declared = {canonicalize_name(r.name) for r in _declared()}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text(encoding="utf-8")):
        m = re.match(r"([A-Za-z0-9._-]+)==", block)
        if not m or canonicalize_name(m[1]) in declared:
            continue
        via = re.findall(r"# via ([^\n]+)", block)
        assert via, f"{m[1]} is locked but the lock does not say what needs it"
        parents = {canonicalize_name(p.strip()) for p in via[0].split(",")}
        assert parents & set(pins), f"{m[1]} is locked for {via[0]}, which is not locked"


@pytest.mark.parametrize("package", DATA_PACKAGES)
def test_data_packages_are_installed_at_the_locked_version(package: str) -> None:
    """The calendar tests expect the 2026 SKB names and dates the locked `holidays` ships: a newer release
    may rename or move a holiday, so the suite runs only against the pinned one (`make install`)."""
    version, _ = _locked()[canonicalize_name(package)]
    installed = importlib.metadata.version(package)
    assert installed == version, f"{package} {installed} is installed, the lock pins {version}: run `make install`"
