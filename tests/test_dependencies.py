"""The lock files pin, with hashes, every dependency pyproject.toml names (`make lock`)."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][\w.-]*)==(\S+)", re.MULTILINE)
HASHED_PIN = re.compile(r"^([A-Za-z0-9][\w.-]*)==(\S+) \\\n\s+--hash=sha256:", re.MULTILINE)


def locked(name):
    """{package: version} pinned in requirements/<name>.txt; asserts every pin has a hash."""
    text = (ROOT / "requirements" / f"{name}.txt").read_text()
    pins, hashed = PIN.findall(text), HASHED_PIN.findall(text)
    assert pins == hashed, f"pins without a hash: {sorted(set(pins) - set(hashed))}"
    return {canonicalize_name(n): v for n, v in pins}


def declared(*extras):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(spec) for spec in names]


@pytest.mark.parametrize(("lock", "extras"), [("dev", ["dev"]), ("production", ["s3"])])
def test_every_declared_dependency_is_locked_within_its_range(lock, extras):
    pins = locked(lock)
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements/{lock}.txt: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{requirement.name}=={pins[name]} is outside {requirement.specifier}: run make lock"
        )


def test_production_lock_has_no_development_tools():
    pins = locked("production")
    for requirement in declared("dev"):
        if canonicalize_name(requirement.name) not in {
            canonicalize_name(r.name) for r in declared("s3")
        }:
            assert canonicalize_name(requirement.name) not in pins
