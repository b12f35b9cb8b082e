"""The package as `pip install .` makes it: the wheel carries what the commands read at run time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "policy", "bot", "adapters", "manifest")
PIP = (sys.executable, "-m", "pip", "--quiet")
MANIFEST_FILES = (
    "manifest/slack/manifest.yml",
    "manifest/slack/manifest.socket.yml",
    "manifest/slack/icon.png",
)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the checkout (the build leaves no trace in it)."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    out = work / "dist"
    run(
        [
            *PIP,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(source),
        ],
        cwd=work,
    )
    (built,) = out.glob("voicemail_coach-*.whl")
    return built


def test_the_wheel_carries_the_slack_manifests_icon_and_license(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(MANIFEST_FILES) <= names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_an_installed_copy_prints_the_manifest_from_anywhere(wheel: Path, tmp_path: Path) -> None:
    """`pip install .` (not editable), then `voicemail-coach manifest slack` elsewhere."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    # The dependencies come from the project's venv, but not its editable finder: a path in a
    # .pth file is put on sys.path without running that folder's own .pth files.
    purelib = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path
        ).strip()
    )
    (purelib / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        cwd=tmp_path,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    located = run(
        [str(python), "-c", "import manifest.slack as m; print(m.__file__)"], elsewhere, env
    )
    assert Path(located.strip()).is_relative_to(venv), "the installed copy, not the checkout"

    command = venv / "bin" / "voicemail-coach"
    text = run(
        [str(command), "manifest", "slack", "--url", "https://coach.acme.com"], elsewhere, env
    )
    assert text.count("https://coach.acme.com/slack/events") == 3
    assert "bot.example.com" not in text
    socket = run([str(command), "manifest", "slack", "--socket"], elsewhere, env)
    assert "socket_mode_enabled: true" in socket


# The lock: constraints.txt pins what `make` installs.

LOCK = ROOT / "constraints.txt"


def locked() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator, f"{line!r} in {LOCK.name} is not pinned with =="
        pins[canonicalize_name(name)] = Version(version)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [
        Requirement(raw)
        for raw in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def test_the_lock_pins_every_dependency_pyproject_names_within_its_range() -> None:
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in {LOCK.name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{LOCK.name} pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )


def test_the_lock_pins_what_the_dependencies_need_too() -> None:
    """Transitive dependencies are pinned as well, each within what its dependant asks."""
    pins = locked()
    todo = [(requirement, "") for requirement in declared()]
    seen: set[str] = set()
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} ({requirement}) is not pinned in {LOCK.name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{LOCK.name} pins {name}=={pins[name]}, but something needs {requirement}"
        )
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for raw in metadata.requires(requirement.name) or []:
            needed = Requirement(raw)
            for wanted in ("", *requirement.extras):
                if needed.marker is None or needed.marker.evaluate({"extra": wanted}):
                    todo.append((needed, wanted))
                    break


def test_the_venv_runs_the_locked_versions() -> None:
    for name, version in locked().items():
        assert Version(metadata.version(name)) == version, (
            f"{name} {metadata.version(name)} is installed, {LOCK.name} pins {version}: run make"
        )


def test_make_installs_the_lock_and_reinstalls_when_it_changes() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = run(["make", "--dry-run", "--always-make", ".venv/bin/.installed"], cwd=ROOT)
    assert "pip install --quiet -c constraints.txt -e '.[dev]'" in plan
    after_lock = run(["make", "--dry-run", "--what-if=constraints.txt", "test"], cwd=ROOT)
    assert "-c constraints.txt" in after_lock, "a new lock must reinstall before the tests"
