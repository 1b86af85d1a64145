"""The wheel ships the clinic's apps with their static files, and none of the developer tooling."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APPS = ("catalogue", "clinic", "consultations", "reports", "treatments")
# A build in the checkout itself would also pack whatever an earlier build left in build/, so
# the wheel is built from a copy of the source alone.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "staticfiles",
    "private",
    "backups",
    "*.sqlite3",
)


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory):
    source = tmp_path_factory.mktemp("source") / "clinic-tracker"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source],
        check=True,
    )
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_leaves_the_developer_tooling_out(wheel_files):
    assert (ROOT / "devtools" / "management" / "commands" / "seed_demo.py").is_file()
    tooling = [
        name
        for name in wheel_files
        if name.startswith("devtools/")
        or any(word in name for word in ("/demo/", "seed_demo", "benchmark", "loadtest"))
    ]
    assert tooling == []


def test_the_wheel_ships_every_file_of_the_clinics_apps(wheel_files):
    source = {
        path.relative_to(ROOT).as_posix()
        for app in APPS
        for path in (ROOT / app).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert "treatments/models.py" in source
    assert "treatments/static/treatments/workspace.css" in source
    assert sorted(source - wheel_files) == []
