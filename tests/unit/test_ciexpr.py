"""GitLab CI `rules: if:` expressions, evaluated offline in three values."""

from __future__ import annotations

import pytest

from cockpit.insights.ciexpr import evaluate

MAIN_PUSH = {
    "CI_COMMIT_BRANCH": "main",
    "CI_DEFAULT_BRANCH": "main",
    "CI_PIPELINE_SOURCE": "push",
    "CI_COMMIT_TAG": None,
    "CI_MERGE_REQUEST_IID": None,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", True),
        ('$CI_COMMIT_BRANCH == "main"', True),
        ("$CI_COMMIT_BRANCH != 'main'", False),
        ("$CI_COMMIT_TAG", False),
        ("$CI_COMMIT_TAG == null", True),
        ("$CI_MERGE_REQUEST_IID", False),
        ('$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH', True),
        ("$CI_COMMIT_BRANCH =~ /^ma/", True),
        ("$CI_COMMIT_BRANCH =~ /^MAIN$/i", True),
        ("$CI_COMMIT_BRANCH !~ /^release\\/.*$/", True),
        ("$CI_COMMIT_TAG =~ /^v/", False),
        ("$CI_COMMIT_TAG !~ /^v/", True),
        ('$CI_PIPELINE_SOURCE == "web" || $CI_COMMIT_BRANCH == "main"', True),
        ('($CI_PIPELINE_SOURCE == "web" || $CI_COMMIT_TAG) && $CI_COMMIT_BRANCH', False),
    ],
)
def test_expressions_on_known_variables(expression: str, expected: bool) -> None:
    assert evaluate(expression, MAIN_PUSH) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('$DEPLOY == "prod"', None),
        ('$CI_PIPELINE_SOURCE == "web" && $DEPLOY == "prod"', False),  # false && unknown
        ('$CI_PIPELINE_SOURCE == "push" && $DEPLOY == "prod"', None),
        ('$CI_COMMIT_BRANCH == "main" || $DEPLOY', True),  # true || unknown
        ('$CI_PROJECT_PATH != "gitterHQ/webapp"', None),
        ("$SAFETY_API_KEY", None),
    ],
)
def test_unknown_variables_make_the_answer_unknown_unless_logic_decides(
    expression: str, expected: bool | None
) -> None:
    assert evaluate(expression, MAIN_PUSH) is expected


def test_and_binds_tighter_than_or() -> None:
    # true || (false && false): GitLab groups && first.
    assert evaluate('$CI_COMMIT_BRANCH == "main" || $CI_COMMIT_TAG && $CI_COMMIT_TAG', MAIN_PUSH)


def test_a_variable_can_hold_the_pattern() -> None:
    variables = {**MAIN_PUSH, "RELEASE_PATTERN": "/^ma.n$/"}
    assert evaluate("$CI_COMMIT_BRANCH =~ $RELEASE_PATTERN", variables) is True


@pytest.mark.parametrize(
    "expression",
    ["$CI_COMMIT_BRANCH ==", "== 'main'", "($CI_COMMIT_BRANCH", "$A = 'b'", "/x/", "$A =~ 'b'"],
)
def test_expressions_gitlab_would_reject_are_unknown_not_an_exception(expression: str) -> None:
    assert evaluate(expression, MAIN_PUSH) is None
