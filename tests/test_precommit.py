"""The pre-commit hooks (.pre-commit-hooks.yaml) run, installed as a policy team installs them.

The README's `.pre-commit-config.yaml` is the one run here, with its `repo:` and `rev:` pointed
at a copy of this repository (the working tree, committed in a temporary repository, so what is
tested is what is here, committed or not). pre-commit clones that copy and `pip install`s it into
the hooks' environment; pip reaches an index only for the dependencies. The environment is built
once for the module (PRE_COMMIT_HOME is shared by its tests) and reused by every run.

The project the hooks check is one criteria set of HMIC 2007 with its framework, scale, compiled
ruleset and Kent's case, committed in a git repository of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PROJECT_FILES = ("criteria/scales/hmic-2007-grades.yaml", "criteria/hmic-2007/framework.yaml",
                 "criteria/hmic-2007/missing-persons.yaml", "rules/hmic-2007/missing-persons.json",
                 "cases/kent-2007/missing-persons.yaml")
HOOKS = ("arbiter-validate", "arbiter-compile-check", "arbiter-lint")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Arbiter tests", "GIT_AUTHOR_EMAIL": "tests@example.org",
                "GIT_COMMITTER_NAME": "Arbiter tests", "GIT_COMMITTER_EMAIL": "tests@example.org"}


def documented(section: str, marker: str) -> str:
    """The README's YAML block in a section that holds the marker: the documented snippet."""
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in body.split("```yaml\n")[1:]]
    [block] = [b for b in blocks if marker in b]
    return block


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_IDENTITY})
    return done.stdout


def commit_all(folder: Path) -> str:
    git("init", "-q", cwd=folder)
    git("add", "-A", cwd=folder)
    git("commit", "-q", "--no-verify", "-m", "snapshot", cwd=folder)
    return git("rev-parse", "HEAD", cwd=folder).strip()


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory) -> tuple[Path, str]:
    """This repository as a policy team's config would name it: a git repository and a commit.
    Its files are the working tree's (tracked, and untracked but not ignored)."""
    copy = tmp_path_factory.mktemp("arbiter-repository")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy, commit_all(copy)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    """Where pre-commit keeps its clones and hook environments: one for the module."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path, hook_repository) -> Path:
    """A policy team's repository: one criteria set, its compiled ruleset and a case, and the
    README's pre-commit config pointed at the copy of this repository."""
    folder = tmp_path / "policy"
    for name in PROJECT_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, folder / name)
    repository, rev = hook_repository
    config = documented("In a policy team's tools", "hooks:")
    config, repos = re.subn(r"(?m)^(\s*- repo: ).*$", rf"\g<1>{repository}", config)
    config, revs = re.subn(r"(?m)^(\s*rev: ).*$", rf"\g<1>{rev}", config)
    assert (repos, revs) == (1, 1)
    (folder / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    commit_all(folder)
    return folder


def run_hook(project: Path, home: Path, hook: str) -> subprocess.CompletedProcess:
    git("add", "-A", cwd=project)  # pre-commit checks what git tracks
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", hook, "--all-files", "--color", "never"],
                          cwd=project, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home)})


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_the_documented_config_uses_every_hook_offered():
    offered = [hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))]
    config = yaml.safe_load(documented("In a policy team's tools", "hooks:"))
    assert offered == list(HOOKS)
    assert [hook["id"] for hook in config["repos"][0]["hooks"]] == offered


def test_the_first_run_builds_the_hook_environment_once(project, pre_commit_home, capsys):
    """Installing Arbiter into the hooks' environment (durable-rules built from source) is
    the slow part; it happens here once, and every later run reuses it."""
    started = time.monotonic()
    result = run_hook(project, pre_commit_home, "arbiter-validate")
    built = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    with capsys.disabled():
        print(f"\n[pre-commit hook environment built and first hook run in {built:.0f} s]")
    started = time.monotonic()
    assert run_hook(project, pre_commit_home, "arbiter-validate").returncode == 0
    assert time.monotonic() - started < built  # reused, not built again


@pytest.mark.parametrize("hook", HOOKS)
def test_a_clean_project_passes_each_hook(project, pre_commit_home, hook):
    result = run_hook(project, pre_commit_home, hook)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"^{re.escape(hook.replace('arbiter-', 'arbiter ').replace('-check', ' --check'))}\.+Passed$",
                     result.stdout, re.M), result.stdout


def test_a_broken_criteria_file_fails_validate_at_its_line(project, pre_commit_home):
    criteria = project / "criteria" / "hmic-2007" / "missing-persons.yaml"
    text = criteria.read_text(encoding="utf-8")
    criteria.write_text(text.replace("    tier: good\n", "    tier: goood\n", 1), encoding="utf-8")
    line = line_of(criteria, "    tier: goood")
    result = run_hook(project, pre_commit_home, "arbiter-validate")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"criteria/hmic-2007/missing-persons.yaml:{line}:11: error E120: unknown tier 'goood'" in result.stdout
    assert "did you mean 'good'?" in result.stdout


def test_a_broken_case_fails_validate_and_an_invalid_example_is_left_out(project, pre_commit_home):
    case = project / "cases" / "kent-2007" / "missing-persons.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace("beacon: false", "beacon: no"), encoding="utf-8")
    line = line_of(case, "  beacon: no")
    (project / "cases" / "invalid").mkdir()
    (project / "cases" / "invalid" / "example.yaml").write_text("arbiter: case\n", encoding="utf-8")
    result = run_hook(project, pre_commit_home, "arbiter-validate")
    assert result.returncode == 1
    assert f"cases/kent-2007/missing-persons.yaml:{line}:11: error E106" in result.stdout, result.stdout
    assert "invalid/example.yaml" not in result.stdout


def test_a_stale_ruleset_fails_compile_check(project, pre_commit_home):
    framework = project / "criteria" / "hmic-2007" / "framework.yaml"
    text = framework.read_text(encoding="utf-8")
    assert "    at_least: 0.8\n" in text
    framework.write_text(text.replace("    at_least: 0.8\n", "    at_least: 0.75\n", 1), encoding="utf-8")
    assert run_hook(project, pre_commit_home, "arbiter-validate").returncode == 0  # valid, but not compiled
    result = run_hook(project, pre_commit_home, "arbiter-compile-check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "rules/hmic-2007/missing-persons.json:1:1: error E140: compiled ruleset is stale" in result.stdout


def test_lint_fails_on_a_grade_no_evidence_can_reach(project, pre_commit_home):
    """Excellent also needs a Good criterion not met, while its 'vast majority' of the set's four
    Good criteria needs all four met: no evidence gives Excellent. The version is raised with
    the change, so that the unreachable grade is the one error."""
    framework = project / "criteria" / "hmic-2007" / "framework.yaml"
    text = framework.read_text(encoding="utf-8")
    anchor = "      - met: {tier: good}\n        is: vast_majority\n"
    assert text.count(anchor) == 1 and text.count('version: "2007.1"\n') == 1
    text = text.replace(anchor, anchor + "      - not_met: {tier: good}\n        at_least: 1\n")
    framework.write_text(text.replace('version: "2007.1"\n', 'version: "2007.2"\n'), encoding="utf-8")
    result = run_hook(project, pre_commit_home, "arbiter-lint")
    assert result.returncode == 1, result.stdout + result.stderr
    errors = re.findall(r"^criteria/hmic-2007/framework\.yaml:\d+:\d+: error (L\d+) .*$", result.stdout, re.M)
    assert errors == ["L203"], result.stdout
    assert re.search(r"error L203 grade-unreachable: .*Excellent is never the outcome", result.stdout), result.stdout


def test_the_documented_workflow_steps_pass_on_a_clean_project(project):
    """Each `arbiter` step of the README's GitHub Actions job, run in the project."""
    workflow = yaml.safe_load(documented("In a policy team's tools", "runs-on:"))
    steps = [step["run"] for step in workflow["jobs"]["criteria"]["steps"]
             if step.get("run", "").startswith("arbiter ")]
    assert len(steps) == 3
    arbiter = Path(sys.executable).parent / "arbiter"
    for step in steps:
        done = subprocess.run([str(arbiter), *step.split()[1:]], cwd=project, capture_output=True, text=True)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
