"""Schema migrations, read per framework: does one expand the schema or contract it?

The expand–contract pattern ships schema changes so that the old and the new version of
the code both work: *expand* (add a table, a column, an index) is safe to roll back
across, *contract* (drop, rename, change a column's type or nullability) is not, because
the old code still reads what the migration removed.

:func:`classify` reads a migration's text the way its framework writes it: Rails
(``create_table``, ``add_column`` … / ``remove_column``, ``rename_column`` …), Laravel
(``Schema::create``, ``$table->string(…)`` / ``dropColumn``, ``Schema::drop`` …), Django
(``migrations.AddField``, ``CreateModel`` / ``RemoveField``, ``DeleteModel``,
``RenameField`` …), Alembic (``op.add_column`` / ``op.drop_column`` …), Liquibase
(``createTable`` / ``dropColumn`` … in XML, YAML or JSON changelogs) and plain SQL (Flyway,
Prisma, golang-migrate: ``CREATE TABLE``, ``ALTER TABLE … ADD`` / ``DROP``, ``RENAME`` …).
Only the forward half counts: Rails ``def down``, Laravel ``down()``, Alembic
``downgrade()`` and Liquibase ``rollback`` blocks drop what the migration added, and
are skipped. Raw SQL inside a migration (``execute``, ``RunSQL``, ``op.execute``) is read
as SQL. One contracting operation makes the migration a contract.

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

EXPAND = "expand"
CONTRACT = "contract"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Migration:
    """A migration a rollback would cross, and what it does to the schema."""

    path: str
    kind: str  # expand | contract | unknown
    reason: str

    @property
    def name(self) -> str:
        return migration_name(self.path)


def migration_name(path: str) -> str:
    """``db/migrate/20261124164500_drop_legacy_state.rb`` → ``drop_legacy_state``.

    Drops the version prefix each framework puts first (Rails and Prisma timestamps,
    Django numbers, Laravel dates, Flyway ``V3__``, Alembic revision ids); a Prisma
    ``…/<name>/migration.sql`` is named by its directory.
    """
    pure = PurePosixPath(path)
    stem = pure.parent.name if pure.name == "migration.sql" else pure.stem
    stem = re.sub(r"\.(up|down)$", "", stem)
    name = re.sub(r"^(?:[VUR][\d._]*__|(?:\d+_)+|[0-9a-f]{12}_)", "", stem)
    return name or stem


def framework(path: str) -> str:
    """rails | laravel | django | alembic | liquibase | sql | unknown, from the path."""
    pure = PurePosixPath(path)
    parts = pure.parts
    suffix = pure.suffix.lower()
    if suffix == ".rb":
        return "rails"
    if suffix == ".php":
        return "laravel"
    if "changelog" in parts or "changelog" in pure.name.lower():
        return "liquibase" if suffix in (".xml", ".yaml", ".yml", ".json") else "sql"
    if suffix == ".py":
        return "alembic" if "versions" in parts else "django"
    if suffix == ".sql":
        return "sql"
    return "unknown"


def classify(path: str, text: str) -> tuple[str, str]:
    """(expand | contract | unknown, reason) for the migration at ``path`` with ``text``."""
    kind = framework(path)
    reader = _READERS.get(kind)
    if reader is None:
        return UNKNOWN, "not a migration format cockpit reads"
    operations = reader(text)
    contracting = [name for name, effect in operations if effect == CONTRACT]
    expanding = [name for name, effect in operations if effect == EXPAND]
    if contracting:
        return CONTRACT, "drops or changes what old code uses: " + _listing(contracting)
    if expanding:
        return EXPAND, "adds only: " + _listing(expanding)
    return UNKNOWN, "no schema change recognised (a data migration?)"


def _listing(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(unique[:4]) + (" …" if len(unique) > 4 else "")


Operations = list[tuple[str, str]]  # (operation as written, expand | contract)


# --------------------------------------------------------------------------- helpers


def _cut(text: str, start: str, following: str) -> str:
    """Remove the section starting at regex ``start`` up to ``following`` (or the end)."""
    match = re.search(start, text, re.MULTILINE)
    if match is None:
        return text
    rest = re.compile(following, re.MULTILINE).search(text, match.end())
    end = rest.start() if rest else len(text)
    return text[: match.start()] + text[end:]


def _strip_line_comments(text: str, marker: str) -> str:
    return "\n".join(line.split(marker, 1)[0] for line in text.splitlines())


_LITERAL = re.compile(
    r'"""(.*?)"""|\'\'\'(.*?)\'\'\'|"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'', re.DOTALL
)


def _first_argument(text: str, start: int) -> list[str]:
    """The string literal(s) of the call argument at ``start`` (after the ``(``).

    ``execute("…")``, ``RunSQL(sql=["…", "…"], reverse_sql=…)``: only the first argument,
    so that reverse SQL (which drops what the forward SQL created) is not read.
    """
    rest = text[start:].lstrip()
    rest = re.sub(r"^(?:sql|sqltext)\s*=\s*", "", rest)
    if rest.startswith("["):
        depth = 0
        for index, char in enumerate(rest):
            depth += {"[": 1, "]": -1}.get(char, 0)
            if depth == 0:
                return [_literal_text(found) for found in _LITERAL.finditer(rest[1:index])]
        return []
    match = _LITERAL.match(rest)
    return [_literal_text(match)] if match else []


def _literal_text(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None)


def _found(pattern: str, text: str, effect: str) -> Operations:
    return [(match.group(1), effect) for match in re.finditer(pattern, text)]


# --------------------------------------------------------------------------- SQL


_CREATE = re.compile(
    r"CREATE (?:OR REPLACE )?(?:UNIQUE )?(TABLE|INDEX|VIEW|MATERIALIZED VIEW|SEQUENCE|TYPE|SCHEMA)\b"
)


def sql_operations(text: str) -> Operations:
    """Statements of plain SQL, without comments (``--`` lines, ``/* … */`` blocks)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    text = _strip_line_comments(text, "--")
    operations: Operations = []
    for statement in text.split(";"):
        words = " ".join(statement.split()).upper()
        create = _CREATE.match(words)
        if create:
            operations.append((f"CREATE {create.group(1)}", EXPAND))
        elif words.startswith("DROP "):
            operations.append((" ".join(words.split()[:2]), CONTRACT))
        elif words.startswith(("RENAME ", "EXEC SP_RENAME", "SP_RENAME")):
            operations.append(("RENAME", CONTRACT))
        elif words.startswith("TRUNCATE"):
            operations.append(("TRUNCATE", CONTRACT))
        elif words.startswith("ALTER TABLE"):
            operations.extend(_alter_table(words))
    return operations


_OBJECT_WORDS = {"COLUMN", "CONSTRAINT", "INDEX", "UNIQUE", "PRIMARY", "FOREIGN", "KEY"}


def _alter_table(words: str) -> Operations:
    """One ``ALTER TABLE`` statement; it may hold several comma-separated actions."""
    match = re.match(r"ALTER TABLE (?:IF EXISTS )?(?:ONLY )?\S+ (.*)", words)
    if match is None:
        return []
    operations: Operations = []
    for action in _top_level_parts(match.group(1)):
        verb, _, rest = action.strip().partition(" ")
        target = rest.split(" ", 1)[0]
        thing = target if target in _OBJECT_WORDS else "COLUMN"
        if verb == "ADD":
            operations.append((f"ADD {thing}", EXPAND))
        elif verb == "DROP":
            operations.append((f"DROP {thing}", CONTRACT))
        elif verb == "RENAME":
            operations.append(("RENAME", CONTRACT))
        elif verb in ("MODIFY", "CHANGE"):  # MySQL: redefine (and for CHANGE, rename)
            operations.append((f"{verb} COLUMN", CONTRACT))
        elif verb == "ALTER":
            relaxed = re.search(r"\b(DROP NOT NULL|SET DEFAULT|DROP DEFAULT)\b", rest)
            if relaxed:
                operations.append((f"ALTER COLUMN {relaxed.group(1)}", EXPAND))
            elif tightened := re.search(r"\b(SET DATA TYPE|TYPE|SET NOT NULL)\b", rest):
                operations.append((f"ALTER COLUMN {tightened.group(1)}", CONTRACT))
    return operations


def _top_level_parts(text: str) -> list[str]:
    """Split on commas outside parentheses: ``ADD a numeric(10, 2), DROP b``."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


# --------------------------------------------------------------------------- frameworks


def _rails(text: str) -> Operations:
    text = _strip_line_comments(text, "#")
    text = _cut(text, r"^\s*def\s+(self\.)?down\b", r"^\s*def\s")
    operations = _found(
        r"\b(remove_columns?|drop_table|drop_join_table|rename_column|rename_table|rename_index"
        r"|remove_index|remove_reference|remove_belongs_to|remove_timestamps|remove_foreign_key"
        r"|remove_check_constraint|change_column_null|change_column(?!_default|_comment))\b",
        text,
        CONTRACT,
    )
    operations += _found(
        r"\bt\.(remove|rename|remove_references|remove_index|remove_timestamps)\b", text, CONTRACT
    )
    operations += _found(
        r"\b(create_table|create_join_table|add_column|add_index|add_reference|add_belongs_to"
        r"|add_timestamps|add_foreign_key|add_check_constraint|change_table)\b",
        text,
        EXPAND,
    )
    for heredoc in re.finditer(
        r"\bexecute\s*\(?\s*<<[~-]?(['\"]?)(\w+)\1[^\n]*\n(.*?)^\s*\2\b",
        text,
        re.DOTALL | re.MULTILINE,
    ):
        operations += sql_operations(heredoc.group(3))
    for call in re.finditer(r"\bexecute\s*\(?\s*(?=[\"'])", text):
        for literal in _first_argument(text, call.end()):
            operations += sql_operations(literal)
    return operations


def _laravel(text: str) -> Operations:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    text = _strip_line_comments(text, "//")
    text = _cut(text, r"function\s+down\s*\(", r"function\s+\w+\s*\(")
    operations = _found(r"Schema::(drop|dropIfExists|rename|dropColumns)\b", text, CONTRACT)
    operations += _found(
        r"->(dropColumn|dropColumns|renameColumn|dropIndex|dropUnique|dropPrimary|dropForeign"
        r"|dropConstrainedForeignId|dropTimestamps|dropSoftDeletes|dropMorphs|change)\s*\(",
        text,
        CONTRACT,
    )
    operations += _found(r"Schema::(create)\b", text, EXPAND)
    operations += [
        (f"$table->{match.group(1)}", EXPAND)
        for match in re.finditer(r"\$table->(?!drop|rename|change)(\w+)\s*\(", text)
    ]
    for call in re.finditer(r"DB::(?:statement|unprepared)\s*\(", text):
        for literal in _first_argument(text, call.end()):
            operations += sql_operations(literal)
    return operations


def _django(text: str) -> Operations:
    text = _strip_line_comments(text, "#")
    operations = _found(
        r"\b(RemoveField|DeleteModel|RenameField|RenameModel|AlterField|RemoveIndex"
        r"|RemoveConstraint|AlterModelTable|RenameIndex)\s*\(",
        text,
        CONTRACT,
    )
    operations += _found(r"\b(CreateModel|AddField|AddIndex|AddConstraint)\s*\(", text, EXPAND)
    for call in re.finditer(r"\bRunSQL\s*\(", text):
        for literal in _first_argument(text, call.end()):
            operations += sql_operations(literal)
    return operations


def _alembic(text: str) -> Operations:
    text = _strip_line_comments(text, "#")
    text = _cut(text, r"^def\s+downgrade\b", r"^def\s")
    operations: Operations = []
    for match in re.finditer(r"\b(?:op|batch_op)\.(\w+)\s*\(", text):
        name = match.group(1)
        if name.startswith(("drop_", "rename_")):
            operations.append((f"op.{name}", CONTRACT))
        elif name == "alter_column":
            arguments = text[match.end() : text.find(")", match.end()) + 1]
            if re.search(r"new_column_name|type_\s*=|nullable\s*=\s*False", arguments):
                operations.append(("op.alter_column", CONTRACT))
        elif name.startswith(("create_", "add_")):
            operations.append((f"op.{name}", EXPAND))
        elif name == "execute":
            for literal in _first_argument(text, match.end()):
                operations += sql_operations(literal)
    return operations


_LIQUIBASE_CONTRACT = {
    "dropTable",
    "dropColumn",
    "renameColumn",
    "renameTable",
    "dropIndex",
    "dropForeignKeyConstraint",
    "dropUniqueConstraint",
    "dropPrimaryKey",
    "dropView",
    "dropSequence",
    "modifyDataType",
    "addNotNullConstraint",
    "dropNotNullConstraint",
    "dropDefaultValue",
    "renameView",
    "mergeColumns",
}
_LIQUIBASE_EXPAND = {
    "createTable",
    "addColumn",
    "createIndex",
    "addForeignKeyConstraint",
    "addUniqueConstraint",
    "addPrimaryKey",
    "createView",
    "createSequence",
    "addDefaultValue",
    "addLookupTable",
}


def _liquibase(text: str) -> Operations:
    if text.lstrip().startswith("<"):
        return _liquibase_xml(text)
    try:
        document = yaml.safe_load(text)  # YAML, or JSON (which YAML reads too)
    except yaml.YAMLError:
        return []
    operations: Operations = []
    _walk_changelog(document, operations)
    return operations


def _liquibase_xml(text: str) -> Operations:
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"<rollback\s*/>|<rollback\b[^>]*>.*?</rollback>", " ", text, flags=re.DOTALL)
    operations = [
        (tag, CONTRACT if tag in _LIQUIBASE_CONTRACT else EXPAND)
        for tag in re.findall(r"<(\w+)", text)
        if tag in _LIQUIBASE_CONTRACT or tag in _LIQUIBASE_EXPAND
    ]
    for sql in re.findall(r"<sql\b[^>]*>(.*?)</sql>", text, re.DOTALL):
        operations += sql_operations(sql)
    return operations


def _walk_changelog(node: Any, operations: Operations) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "rollback":
                continue
            if key in _LIQUIBASE_CONTRACT:
                operations.append((key, CONTRACT))
            elif key in _LIQUIBASE_EXPAND:
                operations.append((key, EXPAND))
            elif key == "sql" and isinstance(value, dict) and isinstance(value.get("sql"), str):
                operations.extend(sql_operations(value["sql"]))
            _walk_changelog(value, operations)
    elif isinstance(node, list):
        for item in node:
            _walk_changelog(item, operations)


_READERS = {
    "rails": _rails,
    "laravel": _laravel,
    "django": _django,
    "alembic": _alembic,
    "liquibase": _liquibase,
    "sql": sql_operations,
}
