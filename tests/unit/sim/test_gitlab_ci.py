"""CI templates: the YAML the files API serves is the job graph the pipelines run."""

from __future__ import annotations

import pytest
import yaml

from cockpit.sim.gitlab import ci


def jobs(template: str) -> dict[str, ci.JobDefinition]:
    return {job.name: job for job in ci.job_graph(ci.template(template))}


@pytest.mark.parametrize("name", ci.TEMPLATES)
def test_every_template_lints_valid_and_its_merged_yaml_parses(name: str) -> None:
    result = ci.lint(ci.template(name))
    assert result.valid and not result.errors
    merged = yaml.safe_load(result.merged_yaml or "")
    assert ":stages:" not in merged and ":stages" in merged  # Ruby symbol keys
    assert merged[":stages"] == list(ci.STAGES)
    assert merged[":deploy_production"][":environment"][":name"] == "production"


def test_level4_is_the_articles_pipeline() -> None:
    graph = jobs("level4")
    stages = [job.stage for job in graph.values()]
    assert stages.index("quick_checks") == 0
    assert {
        "lint",
        "typecheck",
        "build",
        "unit_tests",
        "integration_tests",
        "contract_tests",
        "e2e_tests",
    } <= set(graph)
    assert graph["integration_tests"].services == ("postgres:16", "redis:7")
    assert graph["build"].artifacts == ("dist/",)
    assert graph["unit_tests"].needs == ("build",) and graph["unit_tests"].coverage
    assert graph["deploy_staging"].environment == "staging"
    production = graph["deploy_production"]
    assert production.environment == "production" and production.when == "on_success"
    assert production.needs == ("staging_smoke_tests",)
    assert graph["production_smoke_tests"].needs == ("deploy_production",)


def test_level3_gates_production_on_a_blocking_manual_job() -> None:
    production = jobs("level3")["deploy_production"]
    assert production.when == "manual" and production.allow_failure is False


def test_lean_has_no_contract_or_end_to_end_tests() -> None:
    graph = jobs("lean")
    assert "contract_tests" not in graph and "e2e_tests" not in graph
    assert graph["deploy_production"].when == "on_success"
    assert set(graph["deploy_staging"].needs or ()) == {
        "unit_tests",
        "integration_tests",
        "dependency_scan",
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "stages: [test]\njob:\n  stage: deploy\n  script: [x]\n",
            "job job: chosen stage deploy does not exist",
        ),
        (
            "job:\n  stage: test\n",
            "jobs:job config should implement the script:, run:, or trigger: keyword",
        ),
        ("a:\n  script: [x]\n  needs: [ghost]\n", "a job: undefined need: ghost"),
        ("variables:\n  A: b\n", "jobs config should contain at least one visible job"),
        ("a: [unclosed\n", "(<unknown>)"),
    ],
)
def test_lint_reports_what_is_wrong(text: str, error: str) -> None:
    result = ci.lint(text)
    assert not result.valid
    assert any(e.startswith(error) for e in result.errors), result.errors


def test_unknown_template_names_the_choices() -> None:
    with pytest.raises(ValueError, match="level4"):
        ci.template("level9")
