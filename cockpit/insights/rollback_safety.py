"""Does a rollback cross a schema migration? The check the rollback dialog shows.

A rollback puts old code back in front of the current database. Every migration added
between the rollback target and the running commit has already run: if one of them
contracted the schema (dropped or renamed a column the old code reads), the old code
breaks. The caller compares the TARGET commit with the CURRENT one (GitLab's compare API:
``from=target, to=current``), asks :func:`files_to_read` which migration files to fetch
at the current commit, and passes their text to :func:`check`.

:data:`cockpit.model.DEFAULT_MIGRATION_PATHS` (the default of the ``migration_paths``
setting) covers Rails, Laravel, Django, Alembic, Flyway, Liquibase,
Prisma and plain ``migrations/*.sql`` (golang-migrate, dbmate); globs use ``*`` within
a directory, ``**/`` for any number of directories and ``[0-9]`` classes.

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from cockpit.insights.migrations import CONTRACT, EXPAND, UNKNOWN, Migration, classify
from cockpit.model import DEFAULT_MIGRATION_PATHS, Comparison, FileChange

__all__ = [
    "CONTRACT",
    "EXPAND",
    "UNKNOWN",
    "Migration",
    "RollbackSafety",
    "check",
    "files_to_read",
    "matches",
]


@dataclass(frozen=True)
class RollbackSafety:
    """The migrations a rollback crosses, oldest first."""

    migrations: tuple[Migration, ...] = ()
    #: GitLab gave up comparing (a huge diff): there may be more migrations than listed.
    incomplete: bool = False

    @property
    def destructive(self) -> tuple[Migration, ...]:
        return tuple(m for m in self.migrations if m.kind == CONTRACT)

    @property
    def unrecognised(self) -> tuple[Migration, ...]:
        return tuple(m for m in self.migrations if m.kind == UNKNOWN)

    @property
    def safe(self) -> bool:
        """Nothing destructive, nothing unread, and the comparison was complete."""
        return not self.destructive and not self.unrecognised and not self.incomplete

    @property
    def summary(self) -> str:
        """ "rollback crosses 2 migrations (1 destructive: drop_legacy_state_from_orders)"."""
        count = len(self.migrations)
        if count == 0:
            text = "rollback crosses no migrations"
        else:
            noun = "migration" if count == 1 else "migrations"
            notes = []
            if self.destructive:
                names = ", ".join(m.name for m in self.destructive)
                notes.append(f"{len(self.destructive)} destructive: {names}")
            if self.unrecognised:
                names = ", ".join(m.name for m in self.unrecognised)
                notes.append(f"{len(self.unrecognised)} not recognised: {names}")
            detail = "; ".join(notes) if notes else "none destructive"
            text = f"rollback crosses {count} {noun} ({detail})"
        if self.incomplete:
            text += "; GitLab's comparison timed out, so the list may be incomplete"
        return text

    @property
    def lines(self) -> tuple[str, ...]:
        """One line per migration: kind, name, why, path."""
        return tuple(f"{m.kind}: {m.name}: {m.reason} ({m.path})" for m in self.migrations)


@lru_cache(maxsize=256)
def _glob_pattern(glob: str) -> re.Pattern[str]:
    pattern = ""
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            pattern += "(?:.*/)?"
            index += 3
            continue
        if glob.startswith("**", index):
            pattern += ".*"
            index += 2
            continue
        char = glob[index]
        if char == "*":
            pattern += "[^/]*"
        elif char == "?":
            pattern += "[^/]"
        elif char == "[" and "]" in glob[index + 1 :]:
            end = glob.index("]", index + 1)
            body = glob[index + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            pattern += f"[{body}]"
            index = end
        else:
            pattern += re.escape(char)
        index += 1
    return re.compile(pattern)


def matches(path: str, glob: str) -> bool:
    """Whether repository ``path`` matches ``glob`` (``**/`` spans directories, ``*`` not)."""
    return _glob_pattern(glob).fullmatch(path) is not None


def _is_migration(path: str, globs: Sequence[str]) -> bool:
    return any(matches(path, glob) for glob in globs) and not path.endswith(".down.sql")


def _added(change: FileChange, globs: Sequence[str]) -> bool:
    """The file became a migration between target and current (new, or moved in)."""
    if change.deleted_file or not _is_migration(change.new_path, globs):
        return False
    return change.new_file or (change.renamed_file and not _is_migration(change.old_path, globs))


def files_to_read(
    comparison: Comparison, globs: Sequence[str] = DEFAULT_MIGRATION_PATHS
) -> tuple[str, ...]:
    """Paths (at the current commit) whose content :func:`check` needs."""
    return tuple(change.new_path for change in comparison.files if _added(change, globs))


def check(
    comparison: Comparison,
    *,
    globs: Sequence[str] = DEFAULT_MIGRATION_PATHS,
    contents: Mapping[str, str | None],
) -> RollbackSafety:
    """The migrations a rollback from ``comparison.to_sha`` to ``comparison.from_sha`` crosses.

    ``contents`` maps paths to their text at the current commit (None: could not be read).
    A migration without content is read from the compare diff's added lines; without
    either it is reported as unknown.
    """
    migrations: list[Migration] = []
    for change in comparison.files:
        if not _added(change, globs):
            continue
        text = contents.get(change.new_path)
        if text is None:
            text = _added_lines(change.diff)
        if not text:
            migrations.append(Migration(change.new_path, UNKNOWN, "its content could not be read"))
            continue
        kind, reason = classify(change.new_path, text)
        migrations.append(Migration(change.new_path, kind, reason))
    migrations.sort(key=lambda migration: _version_key(migration.path))
    return RollbackSafety(tuple(migrations), incomplete=comparison.timed_out)


def _version_key(path: str) -> str:
    """What orders migrations oldest first: the file name (its version prefix), or the
    directory name for Prisma's ``<version>_<name>/migration.sql``."""
    directory, _, name = path.rpartition("/")
    return directory.rpartition("/")[2] if name == "migration.sql" else name


def _added_lines(diff: str) -> str:
    return "\n".join(
        line[1:]
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    )
