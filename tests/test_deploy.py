"""The container deployment: the Dockerfile installs as `make` does, compose.yaml runs the tiers
as docs/deploy.md says, and their health checks answer as Docker and compose expect.

No YAML parser is a dependency of the project, so compose.yaml is read by `read_yaml` below: the
small part of YAML the file uses (block mappings and lists, flow lists in JSON form, quoted and
plain scalars, one anchor and its merge), refusing anything else so it cannot misread it."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from bot.cli import _parser
from tests.bot.conftest import VOICEMAIL_COACH, free_port, quiet_env, wait_for_status
from tests.test_packaging import SOURCES as WHEEL_SOURCES

ROOT = Path(__file__).resolve().parents[1]
JOB_KEY = "k" * 64
# The settings an operator sets for Slack, Teams and the tokens at rest: compose must pass them.
PASSED_THROUGH = (
    "VOICEMAIL_COACH_SECRET_KEYS",
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "MICROSOFT_APP_TENANT_ID",
)


# --- Reading the files -------------------------------------------------------------------------


def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (KEYWORD, arguments), continuation lines joined, one list
    for each FROM."""
    joined = re.sub(r"\\\n", " ", text)
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, arguments = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        assert stages, f"an instruction before the first FROM: {line}"
        stages[-1].append((keyword.upper(), " ".join(arguments.split())))
    return stages


def arguments(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [rest for word, rest in stage if word == keyword]


def makefile_recipe(text: str, target: str) -> list[str]:
    """The commands of `target`'s recipe, with the Makefile's variables put in."""
    variables = dict(re.findall(r"^([A-Z_]+) *[:?]?= *(.*?) *$", text, re.MULTILINE))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = line.strip()
        while (expanded := re.sub(r"\$\((\w+)\)", lambda m: variables[m[1]], command)) != command:
            command = expanded
        commands.append(command)
    return commands


def pip_installs(commands: list[str]) -> list[list[str]]:
    """The arguments of each `pip install` in `commands`, without --quiet (how much pip says)."""
    installs = []
    for command in commands:
        for part in command.split("&&"):
            words = shlex.split(part)
            if len(words) > 1 and Path(words[0]).name == "pip" and words[1] == "install":
                installs.append([word for word in words[2:] if word not in ("--quiet", "-q")])
    return installs


def as_the_image_installs(install: list[str]) -> list[str]:
    """`make`'s pip arguments as the image must use them: not editable, no dev extra."""
    kept = []
    for word in install:
        if word in ("-e", "--editable"):
            continue
        if match := re.fullmatch(r"(.+)\[(.*)\]", word):
            extras = [extra for extra in match[2].split(",") if extra.strip() != "dev"]
            word = f"{match[1]}[{','.join(extras)}]" if extras else match[1]
        kept.append(word)
    return kept


def read_yaml(text: str) -> Any:
    lines = [_without_comment(line) for line in text.splitlines()]
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    for number, line in numbered:
        assert "\t" not in line[: len(line) - len(line.lstrip())], f"line {number}: a tab"
    anchors: dict[str, Any] = {}
    value, end = _block(numbered, 0, _indent(numbered[0][1]), anchors)
    assert end == len(numbered), f"line {numbered[end][0]}: not understood"
    return value


def _without_comment(line: str) -> str:
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] == " "):
            return line[:i].rstrip()
    return line.rstrip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[tuple[int, str]], i: int, indent: int, anchors: dict[str, Any]) -> Any:
    """The mapping or list whose lines start at `lines[i]`, indented `indent`; and where it ends."""
    if lines[i][1].lstrip().startswith("- "):
        items = []
        while i < len(lines) and _indent(lines[i][1]) == indent:
            number, line = lines[i]
            assert line.lstrip().startswith("- "), f"line {number}: a list item expected"
            items.append(_scalar(line.lstrip()[2:].strip(), number, anchors))
            i += 1
        return items, i
    mapping: dict[str, Any] = {}
    merged: dict[str, Any] = {}
    while i < len(lines) and _indent(lines[i][1]) == indent:
        number, line = lines[i]
        match = re.fullmatch(r"""("[^"]*"|'[^']*'|[^\s:'"][^:]*?):(?: +(.*))?""", line.strip())
        assert match, f"line {number}: `key: value` expected"
        key, rest = _scalar(match[1], number, anchors), (match[2] or "").strip()
        i += 1
        anchor = None
        if rest.startswith("&"):
            anchor, rest = rest[1:], ""
        if rest:
            value = _scalar(rest, number, anchors)
        elif i < len(lines) and _indent(lines[i][1]) > indent:
            value, i = _block(lines, i, _indent(lines[i][1]), anchors)
        else:
            value = None
        if anchor:
            anchors[anchor] = value
        if key == "<<":
            assert isinstance(value, dict), f"line {number}: `<<` merges a mapping"
            merged |= value
        else:
            assert key not in mapping, f"line {number}: {key} twice"
            mapping[key] = value
    assert i == len(lines) or _indent(lines[i][1]) < indent, f"line {lines[i][0]}: indentation"
    return merged | mapping, i


def _scalar(text: str, number: int, anchors: dict[str, Any]) -> Any:
    if text.startswith("*"):
        assert text[1:] in anchors, f"line {number}: no anchor {text}"
        return anchors[text[1:]]
    if text.startswith(("[", '"')):
        return json.loads(text)  # flow lists and double quotes as JSON writes them, no more
    if text.startswith("'"):
        assert text.endswith("'") and len(text) > 1, f"line {number}: an unclosed quote"
        return text[1:-1].replace("''", "'")
    assert not text.startswith(("{", "&", "!", "|", ">", "%", "@", "`")), f"line {number}: {text}"
    assert ": " not in text and not text.endswith(":"), f"line {number}: a mapping in a scalar"
    return text


# --- The files, read once ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def stages() -> list[list[tuple[str, str]]]:
    return dockerfile_stages((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = read_yaml((ROOT / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def makefile_install() -> list[str]:
    return makefile_recipe((ROOT / "Makefile").read_text(), "$(BIN)/.installed")


def constraints_file() -> str:
    (file,) = re.findall(r"^LOCK *:= *(\S+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    return str(file)


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment: NAME=value, or None for a NAME passed through as it is set."""
    settings = service.get("environment") or []
    assert isinstance(settings, list), "environment as a list, NAME=value or NAME"
    return {
        name: (value if equals else None)
        for name, equals, value in (str(item).partition("=") for item in settings)
    }


def healthcheck_code(command: list[str]) -> str:
    """The Python a health check runs: `python -c CODE` (slim has no curl)."""
    assert command[command.index("python") + 1] == "-c", command
    return command[command.index("python") + 2]


# --- The image installs as make does -----------------------------------------------------------


def test_the_image_installs_with_pip_as_make_does_but_not_editable_and_without_dev(
    stages: list[list[tuple[str, str]]],
) -> None:
    make = pip_installs(makefile_install())
    image = pip_installs(arguments(stages[0], "RUN"))
    assert [constraints_file()] == [i[i.index("-c") + 1] for i in make if "-c" in i]
    assert image == [as_the_image_installs(install) for install in make]
    assert all("-e" not in install and "--editable" not in install for install in image)
    assert not any("dev" in word for install in image for word in install)


def test_a_change_to_makes_install_is_a_difference_the_test_sees() -> None:
    """The comparison above would see make and the image drift apart."""
    makefile = (ROOT / "Makefile").read_text()
    for drifted in (
        makefile.replace("-c $(LOCK) -e", "-e"),
        makefile.replace(".[dev]", ".[dev,teams]"),
        makefile.replace("--upgrade pip", "--upgrade pip==24.0"),
    ):
        changed = pip_installs(makefile_recipe(drifted, "$(BIN)/.installed"))
        assert [as_the_image_installs(i) for i in changed] != [
            as_the_image_installs(i) for i in pip_installs(makefile_install())
        ]


def test_every_stage_is_the_slim_python_of_requires_python(
    stages: list[list[tuple[str, str]]], pyproject: dict[str, Any]
) -> None:
    (minimum,) = re.findall(r">=\s*(\d+\.\d+)", pyproject["project"]["requires-python"])
    assert len(stages) >= 2, "a build stage and a final one"
    for stage in stages:
        image = arguments(stage, "FROM")[0].split()[0]
        assert image == f"python:{minimum}-slim"


def test_the_build_stage_copies_every_file_the_package_is_built_from(
    stages: list[list[tuple[str, str]]], pyproject: dict[str, Any]
) -> None:
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    needed = {"pyproject.toml", pyproject["project"]["readme"], "LICENSE", constraints_file()}
    needed |= packages | set(WHEEL_SOURCES)
    assert needed >= {"policy", "bot", "adapters", "manifest", "pyproject.toml", "README.md"}
    copied = {
        source.rstrip("/")
        for rest in arguments(stages[0], "COPY")
        for source in rest.split()[:-1]
        if not source.startswith("--")
    }
    assert needed <= copied, f"not copied: {sorted(needed - copied)}"
    assert all((ROOT / name).exists() for name in needed)
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()]
    patterns = [line for line in ignored if not line.startswith("#")]
    assert patterns[0] == "*", ".dockerignore lets in only what it names"
    assert needed <= {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    assert not any(p.startswith("!.env") for p in patterns), "secrets stay out of the context"


def test_the_final_stage_keeps_only_the_venv_and_runs_serve_as_a_user(
    stages: list[list[tuple[str, str]]],
) -> None:
    final = stages[-1]
    assert arguments(final, "COPY") == ["--from=build /opt/venv /opt/venv"]
    assert not any(
        re.search(r"apt-get install|pip install", run) for run in arguments(final, "RUN")
    )
    assert arguments(final, "USER")[-1] not in ("root", "0")
    assert json.loads(arguments(final, "ENTRYPOINT")[-1]) == ["voicemail-coach"]
    assert json.loads(arguments(final, "CMD")[-1]) == ["serve"]
    settings = dict(
        word.split("=", 1) for rest in arguments(final, "ENV") for word in shlex.split(rest)
    )
    assert settings["PORT"] == "3000"
    assert arguments(final, "EXPOSE") == ["3000"]
    assert str(Path(settings["VOICEMAIL_COACH_DB"]).parent) in arguments(final, "VOLUME")


def test_serve_and_worker_listen_on_every_interface_as_a_container_needs() -> None:
    """The image's CMD passes no --host: it relies on this default."""
    parser = _parser()
    for command in (["serve"], ["serve", "--no-worker"], ["worker"]):
        assert parser.parse_args(command).host == "0.0.0.0"


# --- compose.yaml ------------------------------------------------------------------------------


def test_redis_keeps_its_data_in_an_append_only_file_on_a_named_volume(
    compose: dict[str, Any],
) -> None:
    redis = compose["services"]["redis"]
    assert redis["image"] == "redis:7"
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    volume, _, folder = redis["volumes"][0].partition(":")
    assert folder == "/data" and volume in compose["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_the_web_tier_is_published_and_waits_for_a_healthy_redis(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]
    assert web["command"] == ["serve", "--no-worker"]
    assert web["ports"] == ["3000:3000"]
    assert web["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert "/readyz" in healthcheck_code(web["healthcheck"]["test"])


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    """`docker compose up --scale worker=3` refuses a fixed name or host port."""
    worker = compose["services"]["worker"]
    assert worker["command"] == ["worker"]
    assert "ports" not in worker and "container_name" not in worker
    assert worker["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert "/readyz" in healthcheck_code(worker["healthcheck"]["test"])


def test_every_tier_shares_redis_and_a_job_key_compose_refuses_to_go_without(
    compose: dict[str, Any],
) -> None:
    web, worker = (environment(compose["services"][name]) for name in ("web", "worker"))
    assert web == worker
    assert web["REDIS_URL"] == "redis://redis:6379/0"
    assert re.fullmatch(r"\$\{VOICEMAIL_COACH_JOB_KEY:\?.+\}", web["VOICEMAIL_COACH_JOB_KEY"] or "")
    for name in PASSED_THROUGH:
        assert name in web and web[name] is None, f"{name} passed through as set"


def test_the_yaml_reader_refuses_what_it_does_not_understand() -> None:
    assert read_yaml("a:\n  - '1'\n  - [\"x\"]\nb: &n\n  c: d\ne:\n  <<: *n\n  f: g\n") == {
        "a": ["1", ["x"]],
        "b": {"c": "d"},
        "e": {"c": "d", "f": "g"},
    }
    for text in ("a: {b: c}\n", "a:\n  - b: c\n", "a: |\n  b\n", "a: *missing\n", "a: 1\na: 2\n"):
        with pytest.raises(AssertionError):
            read_yaml(text)


# --- The health checks answer as Docker and compose expect -------------------------------------


def health_check_status(command: list[str], port: int) -> int:
    """The exit status of a health check's Python, run here against `port`."""
    done = subprocess.run(
        [sys.executable, "-c", healthcheck_code(command)],
        env=quiet_env(PORT=str(port)),
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode


def image_healthcheck(stages: list[list[tuple[str, str]]]) -> list[str]:
    (rest,) = arguments(stages[-1], "HEALTHCHECK")
    command: list[str] = json.loads(rest[rest.index("CMD ") + 4 :])
    assert "curl" not in command
    return command


@contextmanager
def serving(command: list[str], env: dict[str, str], folder: Path, ready: int) -> Iterator[int]:
    """`voicemail-coach COMMAND` on loopback at the PORT the health checks read; yields it."""
    port = free_port()
    process = subprocess.Popen(
        [str(VOICEMAIL_COACH), *command, "--host", "127.0.0.1"],
        cwd=folder,
        env=env | {"PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for_status(f"http://127.0.0.1:{port}/readyz", ready, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_both_checks_pass_on_a_ready_service_and_fail_once_it_is_gone(
    stages: list[list[tuple[str, str]]], compose: dict[str, Any], tmp_path: Path
) -> None:
    database = tmp_path / "data" / "voicemail-coach.db"
    database.parent.mkdir()
    liveness = image_healthcheck(stages)
    readiness = compose["services"]["web"]["healthcheck"]["test"]
    with serving(["serve"], quiet_env(VOICEMAIL_COACH_DB=str(database)), tmp_path, 200) as port:
        assert health_check_status(liveness, port) == 0
        assert health_check_status(readiness, port) == 0
        assert database.exists(), "the SQLite file is made in VOICEMAIL_COACH_DB's folder"
    assert health_check_status(liveness, port) != 0
    assert health_check_status(readiness, port) != 0


def test_a_web_tier_without_redis_lives_but_is_not_healthy_in_compose(
    stages: list[list[tuple[str, str]]], compose: dict[str, Any], tmp_path: Path
) -> None:
    """Redis down: the image's liveness check passes (no restart), compose's readiness fails."""
    nothing = f"redis://127.0.0.1:{free_port()}/0"
    env = quiet_env(REDIS_URL=nothing, VOICEMAIL_COACH_JOB_KEY=JOB_KEY)
    with serving(["serve", "--no-worker"], env, tmp_path, 503) as port:
        assert health_check_status(image_healthcheck(stages), port) == 0
        assert health_check_status(compose["services"]["web"]["healthcheck"]["test"], port) != 0


# --- The image itself, where a Docker daemon answers -------------------------------------------


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def docker_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no docker command"
    info = docker("info", timeout=30)
    if info.returncode != 0:
        return f"no Docker daemon answers `docker info`: {info.stderr.strip()[-200:]}"
    return None


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    problem = docker_problem()
    if problem is not None:
        pytest.skip(problem)
    tag = f"voicemail-coach:test-{uuid4().hex[:12]}"
    built = docker("build", "--tag", tag, str(ROOT), timeout=1800)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    try:
        yield tag
    finally:
        docker("image", "rm", "--force", tag)


def test_the_image_runs_each_command_as_a_user_and_answers_healthz(
    image: str, stages: list[list[tuple[str, str]]]
) -> None:
    version = docker("run", "--rm", image, "--version")
    assert version.returncode == 0 and version.stdout.startswith("voicemail-coach "), version
    user = docker("run", "--rm", "--entrypoint", "id", image, "-u")
    assert user.returncode == 0 and user.stdout.strip() != "0", user
    # `worker` is the same image's other command: without REDIS_URL it says why it cannot run.
    worker = docker("run", "--rm", image, "worker")
    assert worker.returncode == 2 and "needs REDIS_URL" in worker.stderr, worker
    started = docker("run", "--detach", "--publish", "127.0.0.1::3000", image)
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    try:
        port = docker("port", container, "3000/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        assert wait_for_answer(f"http://127.0.0.1:{port}/healthz") == 200
        assert wait_for_answer(f"http://127.0.0.1:{port}/readyz") == 200
        check = docker("exec", container, *image_healthcheck(stages))
        assert check.returncode == 0, check.stderr
        found = docker("exec", container, "python", "-c", "import bot; print(bot.__file__)")
        assert "/opt/venv/lib/" in found.stdout, "installed, not a checkout"
    finally:
        docker("rm", "--force", container)


def wait_for_answer(url: str) -> int:
    """The status of the first answer to GET `url` within 60 s, 0 if none came."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.5)
    return 0
