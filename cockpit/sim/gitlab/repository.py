"""A project's git repository: a linear ``main`` of commits, file trees at any commit, compare.

Each commit records the files it adds, changes or deletes (whole new contents), so the
tree at any commit and the unified diff between two commits are computed on demand;
nothing is stored per (commit × file). ``seed_files`` is the small, realistic tree a
project starts from; ``migration`` writes a Rails migration for a ``db/migrate`` path.
"""

from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Person:
    """A GitLab user (also a commit author)."""

    id: int
    username: str
    name: str

    @property
    def email(self) -> str:
        return f"{self.username}@shop.example.com"


@dataclass(frozen=True)
class Change:
    """A file a commit writes: new content, or None for a deletion."""

    path: str
    content: str | None


@dataclass(frozen=True)
class Commit:
    sha: str
    #: Position on ``main`` (0 is the first commit).
    index: int
    parent: str | None
    title: str
    message: str
    author: Person
    created_at: datetime
    changes: tuple[Change, ...]

    @property
    def short_id(self) -> str:
        return self.sha[:8]


@dataclass(frozen=True)
class FileDiff:
    old_path: str
    new_path: str
    diff: str
    new_file: bool
    deleted_file: bool


@dataclass(frozen=True)
class StoredFile:
    path: str
    content: str
    #: The last commit (at or before the asked one) that wrote this file.
    last_commit: Commit


class Repository:
    """The commits of one project's default branch."""

    def __init__(self, default_branch: str = "main") -> None:
        self.default_branch = default_branch
        self.commits: list[Commit] = []
        self._by_sha: dict[str, Commit] = {}
        #: path → ([commit index...], [content or None...]), both ascending.
        self._versions: dict[str, tuple[list[int], list[str | None]]] = {}

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def commit(
        self,
        sha: str,
        *,
        title: str,
        message: str,
        author: Person,
        created_at: datetime,
        changes: tuple[Change, ...],
    ) -> Commit:
        index = len(self.commits)
        commit = Commit(
            sha=sha,
            index=index,
            parent=self.commits[-1].sha if self.commits else None,
            title=title,
            message=message,
            author=author,
            created_at=created_at,
            changes=changes,
        )
        self.commits.append(commit)
        self._by_sha[sha] = commit
        for change in changes:
            indices, contents = self._versions.setdefault(change.path, ([], []))
            indices.append(index)
            contents.append(change.content)
        return commit

    def resolve(self, ref: str) -> Commit | None:
        """A branch name, ``HEAD``, or a full or abbreviated (7+ hex) commit sha."""
        if not self.commits:
            return None
        if ref in (self.default_branch, "HEAD", f"refs/heads/{self.default_branch}"):
            return self.head
        found = self._by_sha.get(ref)
        if found is not None or len(ref) < 7 or not re.fullmatch(r"[0-9a-f]+", ref):
            return found
        matches = [c for c in self.commits if c.sha.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def get(self, sha: str) -> Commit | None:
        return self._by_sha.get(sha)

    def file_at(self, path: str, commit: Commit) -> StoredFile | None:
        versions = self._versions.get(path)
        if versions is None:
            return None
        indices, contents = versions
        position = bisect.bisect_right(indices, commit.index) - 1
        if position < 0 or contents[position] is None:
            return None
        return StoredFile(path, contents[position] or "", self.commits[indices[position]])

    def tree(self, commit: Commit) -> list[str]:
        return sorted(p for p in self._versions if self.file_at(p, commit) is not None)

    def between(self, older: Commit, newer: Commit) -> list[Commit]:
        """Commits after ``older`` up to and including ``newer``, oldest first."""
        return self.commits[older.index + 1 : newer.index + 1]

    def compare(
        self, base: Commit, target: Commit, *, straight: bool
    ) -> tuple[list[Commit], list[FileDiff]]:
        """What ``GET /repository/compare`` shows: commits and file diffs from base to target.

        History is linear, so the merge base of the two is the older one: without
        ``straight`` a base newer than the target compares the target with itself.
        """
        if not straight and base.index > target.index:
            base = target
        lo, hi = sorted((base.index, target.index))
        commits = self.commits[lo + 1 : hi + 1] if base.index <= target.index else []
        paths: dict[str, None] = {}
        for commit in self.commits[lo + 1 : hi + 1]:
            for change in commit.changes:
                paths.setdefault(change.path, None)
        diffs = []
        for path in paths:
            old = self.file_at(path, base)
            new = self.file_at(path, target)
            if old is None and new is None:
                continue
            if old is not None and new is not None and old.content == new.content:
                continue
            diffs.append(
                FileDiff(
                    old_path=path,
                    new_path=path,
                    diff=unified_diff(path, old and old.content, new and new.content),
                    new_file=old is None,
                    deleted_file=new is None,
                )
            )
        return commits, diffs


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    """A git-style unified diff of one file (``--- a/…`` / ``+++ b/…`` headers and hunks)."""
    old_lines = (old or "").splitlines()
    new_lines = (new or "").splitlines()
    lines = list(
        difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile="/dev/null" if old is None else f"a/{path}",
            tofile="/dev/null" if new is None else f"b/{path}",
            lineterm="",
        )
    )
    return "\n".join(lines) + "\n" if lines else ""


# --------------------------------------------------------------------------- contents


def seed_files(
    *, name: str, description: str, ci_yaml: str, kind: str, namespace_hint: str
) -> dict[str, str]:
    """The tree a project starts from: CI config, README, a small Rails service."""
    camel = camel_case(name)
    if kind == "Deployment":
        rollout = (
            'kubectl -n "$NAMESPACE" set image "deployment/$CI_PROJECT_NAME" "app=$IMAGE"\n'
            'kubectl -n "$NAMESPACE" rollout status "deployment/$CI_PROJECT_NAME" --timeout=10m\n'
        )
    else:
        rollout = (
            'kubectl argo rollouts -n "$NAMESPACE" set image "$CI_PROJECT_NAME" "app=$IMAGE"\n'
            'kubectl argo rollouts -n "$NAMESPACE" status "$CI_PROJECT_NAME" --timeout 30m\n'
        )
    return {
        ".gitlab-ci.yml": ci_yaml,
        "README.md": (
            f"# {name}\n\n{description.capitalize() or 'A service of the shop'}.\n\n"
            "## Development\n\n"
            "```sh\nbundle install\nbin/rails db:prepare\nbundle exec rspec\n```\n\n"
            "## Deployment\n\n"
            "Every commit on `main` runs the pipeline in `.gitlab-ci.yml`; `deploy.sh` sets\n"
            f"the image in the `{namespace_hint}` namespaces and waits for the rollout.\n"
        ),
        "Gemfile": (
            'source "https://rubygems.org"\n\n'
            'ruby "3.3.5"\n\n'
            'gem "rails", "~> 7.2.1"\n'
            'gem "pg", "~> 1.5"\n'
            'gem "puma", "~> 6.4"\n'
            'gem "redis", "~> 5.3"\n'
            'gem "prometheus-client", "~> 4.2"\n\n'
            "group :development, :test do\n"
            '  gem "rspec-rails", "~> 7.0"\n'
            '  gem "rubocop-rails", require: false\n'
            '  gem "sorbet", require: false\n'
            '  gem "pact", "~> 1.66"\n'
            "end\n"
        ),
        "Dockerfile": (
            "FROM ruby:3.3-slim\n"
            "WORKDIR /app\n"
            "COPY Gemfile Gemfile.lock ./\n"
            "RUN bundle install --without development test\n"
            "COPY . .\n"
            "EXPOSE 8080\n"
            'CMD ["bundle", "exec", "puma", "-p", "8080"]\n'
        ),
        "deploy.sh": (
            "#!/bin/sh\n"
            "# Deploy this commit's image to an environment and wait until it is live.\n"
            "set -eu\n"
            'NAMESPACE="$1"\n'
            'IMAGE="$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA"\n' + rollout
        ),
        "scripts/smoke-tests.sh": (
            "#!/bin/sh\n"
            "set -eu\n"
            'case "$1" in\n'
            '  production) BASE="https://$CI_PROJECT_NAME.shop.example.com" ;;\n'
            '  *) BASE="https://$CI_PROJECT_NAME.$1.shop.example.com" ;;\n'
            "esac\n"
            'curl --fail --silent --show-error "$BASE/healthz"\n'
            'curl --fail --silent --show-error "$BASE/readyz"\n'
        ),
        "config/settings.yml": (
            "default: &default\n"
            "  request_timeout_ms: 2000\n"
            "  retry_attempts: 3\n"
            "  cache_ttl_seconds: 300\n"
            "  page_size: 50\n\n"
            "production:\n  <<: *default\n\n"
            "staging:\n  <<: *default\n"
        ),
        "config/routes.rb": (
            "Rails.application.routes.draw do\n"
            '  get "/healthz", to: "health#live"\n'
            '  get "/readyz", to: "health#ready"\n'
            f"  resources :{name.replace('-', '_')}, only: %i[index show create]\n"
            "end\n"
        ),
        "app/controllers/health_controller.rb": (
            "class HealthController < ApplicationController\n"
            "  def live\n    head :ok\n  end\n\n"
            "  def ready\n"
            '    ActiveRecord::Base.connection.execute("SELECT 1")\n'
            "    head :ok\n"
            "  end\nend\n"
        ),
        f"app/services/{snake(name)}_service.rb": (
            f"class {camel}Service\n"
            "  def initialize(repository: Repository.new)\n"
            "    @repository = repository\n"
            "  end\n\n"
            "  def call(params)\n"
            "    @repository.find(params.fetch(:id))\n"
            "  end\nend\n"
        ),
        f"spec/unit/{snake(name)}_service_spec.rb": (
            f"RSpec.describe {camel}Service do\n"
            '  it "finds the record" do\n'
            "    repository = instance_double(Repository, find: :record)\n"
            "    expect(described_class.new(repository:).call(id: 1)).to eq(:record)\n"
            "  end\nend\n"
        ),
    }


def snake(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def camel_case(name: str) -> str:
    return "".join(part.capitalize() for part in snake(name).split("_"))


_MIGRATION = re.compile(r"(?:.*/)?(?P<version>\d{14})_(?P<slug>[a-z0-9_]+)\.rb$")


def migration_title(path: str) -> str:
    """``db/migrate/2026…_add_x_to_orders.rb`` → ``Add x to orders``."""
    match = _MIGRATION.match(path)
    slug = match.group("slug") if match else path.rsplit("/", 1)[-1].removesuffix(".rb")
    return slug.replace("_", " ").capitalize()


def migration(path: str, kind: str) -> str:
    """A realistic Rails migration for a ``db/migrate/<version>_<slug>.rb`` path.

    ``expand`` migrations add (``create_table``, ``add_column``, ``add_index``);
    ``contract`` migrations remove (``remove_column``, ``drop_table``, ``rename_column``).
    """
    match = _MIGRATION.match(path)
    slug = match.group("slug") if match else "change_schema"
    klass = camel_case(slug)
    body: str
    if kind == "expand":
        if m := re.fullmatch(r"create_(\w+)", slug):
            table = m.group(1)
            body = (
                f"  def change\n    create_table :{table} do |t|\n"
                "      t.references :customer, null: false\n"
                '      t.string :state, null: false, default: "pending"\n'
                "      t.integer :total_cents, null: false, default: 0\n"
                '      t.string :currency, null: false, default: "EUR"\n'
                "      t.timestamps\n    end\n  end\n"
            )
        elif m := re.fullmatch(r"add_index_on_(\w+?)_(\w+)", slug):
            table, column = m.group(1), m.group(2)
            body = (
                "  disable_ddl_transaction!\n\n"
                f"  def change\n    add_index :{table}, :{column}, algorithm: :concurrently\n  end\n"
            )
        elif m := re.fullmatch(r"add_(\w+)_to_(\w+)", slug):
            column, table = m.group(1), m.group(2)
            body = f"  def change\n    add_column :{table}, :{column}, :string\n  end\n"
        else:
            body = f"  def change\n    add_column :{slug}, :metadata, :jsonb\n  end\n"
    else:
        if m := re.fullmatch(r"(?:drop|remove)_(\w+)_from_(\w+)", slug):
            column, table = m.group(1), m.group(2)
            body = (
                f"  def up\n    remove_column :{table}, :{column}\n  end\n\n"
                f"  def down\n    add_column :{table}, :{column}, :string\n  end\n"
            )
        elif m := re.fullmatch(r"rename_(\w+)_to_(\w+)_in_(\w+)", slug):
            old, new, table = m.group(1), m.group(2), m.group(3)
            body = f"  def change\n    rename_column :{table}, :{old}, :{new}\n  end\n"
        elif m := re.fullmatch(r"drop_(\w+)", slug):
            body = f"  def up\n    drop_table :{m.group(1)}\n  end\n\n  def down\n    raise ActiveRecord::IrreversibleMigration\n  end\n"
        else:
            body = f"  def up\n    remove_column :{slug}, :legacy\n  end\n"
    return f"class {klass} < ActiveRecord::Migration[7.2]\n{body}end\n"
