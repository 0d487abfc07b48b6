"""How cockpit init matches a GitLab environment to a workload, and says why."""

from __future__ import annotations

from pathlib import Path

from cockpit import config
from cockpit.discovery import Connections, GitLabEnvironment, Match, Workload, match, render, slug
from cockpit.sim.statedir import kubeconfig

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


def test_the_written_file_loads_with_overrides_and_lists_what_it_left_out(tmp_path: Path) -> None:

    (tmp_path / "kubeconfig").write_text(kubeconfig("http://127.0.0.1:1", "t"))
    envs = {
        (p, e): GitLabEnvironment(p, e, e)
        for p in ("shop/checkout", "shop/ledger", "shop/legacy")
        for e in ("staging", "production")
    }
    matches = [
        Match(envs["shop/checkout", "staging"], "matched", w("staging", "checkout", "cockpit-sim")),
        Match(
            envs["shop/checkout", "production"],
            "matched",
            w("production", "checkout", "cockpit-sim"),
        ),
        Match(
            envs["shop/ledger", "production"],
            "matched",
            Workload("cockpit-sim", "money", "Deployment", "ledger-api"),
        ),
        Match(envs["shop/legacy", "production"], "unmatched", how="nothing named legacy"),
    ]
    text = render(
        Connections(
            "https://gitlab.example.com", "GITLAB_TOKEN", str(tmp_path / "kubeconfig"), None
        ),
        "shop",
        matches,
        ["shop/checkout", "shop/ledger", "shop/legacy"],
        None,
        None,
    )
    loaded = config.parse(text, tmp_path / "cockpit.toml", environ={"GITLAB_TOKEN": "x"})
    assert [s.name for s in loaded.services] == ["checkout", "ledger"]
    (ledger,) = loaded.service("ledger").environments
    assert (ledger.name, ledger.namespace, ledger.workload_kind, ledger.workload_name) == (
        "production",
        "money",
        "Deployment",
        "ledger-api",
    )
    staging = loaded.service("checkout").environment("staging")
    assert (staging.namespace, staging.workload_name, staging.kube_context) == (
        "staging",
        "checkout",
        "cockpit-sim",
    )
    assert "#   shop/legacy production: nothing named legacy" in text
