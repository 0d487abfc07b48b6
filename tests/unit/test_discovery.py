"""How cockpit init matches a GitLab environment to a workload, and says why."""

from __future__ import annotations

from cockpit.discovery import GitLabEnvironment, Workload, match, slug

PROD = GitLabEnvironment("shop/checkout", "production", "production", None)


def w(namespace: str, name: str, context: str = "eu", **annotations: str) -> Workload:
    return Workload(context, namespace, "Rollout", name, dict(annotations))


def test_slugs_are_gitlabs() -> None:
    assert slug("shop/Checkout_v2") == "shop-checkout-v2"
    assert slug("review/fix-1") == "review-fix-1"


def test_annotations_win_over_names() -> None:
    annotated = w(
        "payments-prod",
        "co",
        **{"app.gitlab.com/app": "shop-checkout", "app.gitlab.com/env": "production"},
    )
    found = match(PROD, [w("production", "checkout"), annotated])
    assert (found.outcome, found.workload, found.how) == (
        "matched",
        annotated,
        "app.gitlab.com annotations",
    )


def test_a_workload_annotated_for_something_else_is_never_taken_by_name() -> None:
    other = w("production", "checkout", **{"app.gitlab.com/app": "shop-legacy"})
    found = match(PROD, [other])
    assert found.outcome == "unmatched"
    assert "app.gitlab.com/app=shop-checkout" in found.how and "named checkout" in found.how


def test_the_environments_namespace_then_the_name() -> None:
    env = GitLabEnvironment("shop/checkout", "production", "production", "shop-prod")
    there = w("shop-prod", "checkout-api")
    found = match(env, [there, w("production", "other")])
    assert found.workload == there and "namespace (its only workload)" in found.how
    named = match(PROD, [w("production", "checkout"), w("staging", "checkout")])
    assert named.workload == w("production", "checkout")
    assert named.how == "the name, in a namespace named like the environment"


def test_two_candidates_are_ambiguous_and_listed() -> None:
    found = match(PROD, [w("production", "checkout", "eu"), w("production", "checkout", "us")])
    assert found.outcome == "ambiguous" and len(found.candidates) == 2
    assert found.how.startswith("2 workloads match")
