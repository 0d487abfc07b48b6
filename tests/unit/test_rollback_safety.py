"""Does a rollback cross a migration, and would the old code survive it?"""

from __future__ import annotations

import pytest

from cockpit.insights.migrations import classify, migration_name
from cockpit.insights.rollback_safety import (
    RollbackSafety,
    check,
    files_to_read,
    matches,
)
from cockpit.model import DEFAULT_MIGRATION_PATHS, Comparison, FileChange
from tests.helpers import load_fixture


def is_migration(path: str) -> bool:
    return any(matches(path, glob) for glob in DEFAULT_MIGRATION_PATHS)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("db/migrate/20261124164500_drop_legacy_state_from_orders.rb", True),
        ("engines/billing/db/migrate/20260101000000_create_invoices.rb", True),
        ("database/migrations/2024_01_01_000000_add_full_name_to_users.php", True),
        ("shop/migrations/0042_remove_order_legacy_state.py", True),
        ("shop/migrations/__init__.py", False),
        ("alembic/versions/3f1a2b4c5d6e_add_last_login.py", True),
        ("migrations/versions/3f1a2b4c5d6e_add_last_login.py", True),
        ("src/main/resources/db/migration/V3__drop_legacy.sql", True),
        ("src/main/resources/db/migration/README.md", False),
        ("src/main/resources/db/changelog/changes/002-rename.yaml", True),
        ("prisma/migrations/20240101120000_init/migration.sql", True),
        ("migrations/000001_init.up.sql", True),
        ("app/models/order.rb", False),
        ("db/schema.rb", False),
    ],
)
def test_default_globs_cover_each_framework(path: str, expected: bool) -> None:
    assert is_migration(path) is expected


def test_globs_keep_star_within_a_directory() -> None:
    assert matches("db/migrate/1_a.rb", "db/migrate/*.rb")
    assert not matches("db/migrate/old/1_a.rb", "db/migrate/*.rb")
    assert matches("a/b/db/migrate/1_a.rb", "**/db/migrate/*.rb")
    assert matches("app/migrations/0001_x.py", "**/migrations/[0-9]*.py")
    assert not matches("app/migrations/x0001.py", "**/migrations/[0-9]*.py")
    assert matches("app/migrations/x0001.py", "**/migrations/[!0-9]*.py")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (
            "db/migrate/20261124164500_drop_legacy_state_from_orders.rb",
            "drop_legacy_state_from_orders",
        ),
        (
            "database/migrations/2024_01_01_000000_add_full_name_to_users.php",
            "add_full_name_to_users",
        ),
        ("shop/migrations/0042_remove_order_legacy_state.py", "remove_order_legacy_state"),
        ("alembic/versions/3f1a2b4c5d6e_add_last_login.py", "add_last_login"),
        ("db/migration/V3__drop_legacy.sql", "drop_legacy"),
        ("db/migration/V1_2__add_index.sql", "add_index"),
        ("prisma/migrations/20240101120000_init/migration.sql", "init"),
        ("migrations/000001_init.up.sql", "init"),
    ],
)
def test_migration_names_drop_the_version(path: str, name: str) -> None:
    assert migration_name(path) == name


# --------------------------------------------------------------------------- per framework

RAILS_CONTRACT = """\
class DropLegacyStateFromOrders < ActiveRecord::Migration[7.1]
  def up
    remove_column :orders, :legacy_state
  end

  def down
    add_column :orders, :legacy_state, :string
  end
end
"""
RAILS_EXPAND = """\
class AddShippingProviderToOrders < ActiveRecord::Migration[7.1]
  def change
    add_column :orders, :shipping_provider, :string
    add_index :orders, :shipping_provider
  end
end
"""
RAILS_REVERSIBLE_CREATE = """\
class CreateOrders < ActiveRecord::Migration[7.1]
  def up
    create_table :orders do |t|
      t.string :state
      t.timestamps
    end
  end

  def down
    drop_table :orders
  end
end
"""
RAILS_CHANGE_TABLE = """\
class CleanUpOrders < ActiveRecord::Migration[7.1]
  def change
    change_table :orders do |t|
      t.remove :legacy_state, type: :string
    end
  end
end
"""
RAILS_RAW_SQL = """\
class DropLegacy < ActiveRecord::Migration[7.1]
  def up
    execute <<~SQL
      ALTER TABLE orders DROP COLUMN legacy_state;
    SQL
  end
end
"""
LARAVEL_EXPAND = """\
<?php
return new class extends Migration
{
    public function up(): void
    {
        Schema::table('users', function (Blueprint $table) {
            $table->string('full_name')->nullable();
        });
    }

    public function down(): void
    {
        Schema::table('users', function (Blueprint $table) {
            $table->dropColumn('full_name');
        });
    }
};
"""
LARAVEL_CONTRACT = """\
<?php
return new class extends Migration
{
    public function up(): void
    {
        Schema::table('users', function (Blueprint $table) {
            $table->dropColumn('name');
        });
    }
};
"""
LARAVEL_CREATE = """\
<?php
return new class extends Migration
{
    public function up(): void
    {
        Schema::create('flights', function (Blueprint $table) {
            $table->id();
            $table->string('name');
            $table->timestamps();
        });
    }

    public function down(): void
    {
        Schema::dropIfExists('flights');
    }
};
"""
DJANGO_EXPAND = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0041_order_created")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="shipping_provider",
            field=models.CharField(max_length=64, null=True),
        ),
    ]
"""
DJANGO_CONTRACT = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0042_order_shipping_provider")]

    operations = [
        migrations.RemoveField(model_name="order", name="legacy_state"),
        migrations.RenameField(model_name="order", old_name="notes", new_name="remarks"),
    ]
"""
DJANGO_RUNSQL = """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX order_created ON shop_order (created);",
            reverse_sql="DROP INDEX order_created;",
        ),
    ]
"""
DJANGO_DATA = """\
from django.db import migrations


def backfill(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    Order.objects.filter(remarks=None).update(remarks="")


class Migration(migrations.Migration):
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
"""
ALEMBIC_EXPAND = """\
revision = "3f1a2b4c5d6e"
down_revision = "1a2b3c4d5e6f"


def upgrade():
    op.add_column("account", sa.Column("last_login", sa.DateTime(), nullable=True))
    op.create_index("ix_account_last_login", "account", ["last_login"])


def downgrade():
    op.drop_index("ix_account_last_login")
    op.drop_column("account", "last_login")
"""
ALEMBIC_CONTRACT = """\
def upgrade():
    op.alter_column("account", "name", new_column_name="full_name")


def downgrade():
    op.alter_column("account", "full_name", new_column_name="name")
"""
ALEMBIC_RAW_SQL = """\
def upgrade():
    op.execute("ALTER TABLE account DROP COLUMN legacy")
"""
FLYWAY_EXPAND = """\
-- V2: shipping provider (DROP nothing here)
ALTER TABLE orders ADD COLUMN shipping_provider varchar(64);
CREATE INDEX orders_shipping_provider ON orders (shipping_provider);
"""
FLYWAY_CONTRACT = """\
/* the old state machine is gone */
ALTER TABLE orders DROP COLUMN legacy_state;
"""
PRISMA_INIT = """\
-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
"""
LIQUIBASE_XML = """\
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
  <changeSet id="2" author="ops">
    <addColumn tableName="orders">
      <column name="shipping_provider" type="varchar(64)"/>
    </addColumn>
    <rollback>
      <dropColumn tableName="orders" columnName="shipping_provider"/>
    </rollback>
  </changeSet>
</databaseChangeLog>
"""
LIQUIBASE_YAML = """\
databaseChangeLog:
  - changeSet:
      id: 3
      author: ops
      changes:
        - renameColumn:
            tableName: orders
            oldColumnName: notes
            newColumnName: remarks
      rollback:
        - renameColumn: {tableName: orders, oldColumnName: remarks, newColumnName: notes}
"""


@pytest.mark.parametrize(
    ("path", "text", "kind", "reason"),
    [
        (
            "db/migrate/2_drop.rb",
            RAILS_CONTRACT,
            "contract",
            "drops or changes what old code uses: remove_column",
        ),
        ("db/migrate/3_add.rb", RAILS_EXPAND, "expand", "adds only: add_column, add_index"),
        ("db/migrate/1_create.rb", RAILS_REVERSIBLE_CREATE, "expand", "adds only: create_table"),
        (
            "db/migrate/4_clean.rb",
            RAILS_CHANGE_TABLE,
            "contract",
            "drops or changes what old code uses: remove",
        ),
        (
            "db/migrate/5_sql.rb",
            RAILS_RAW_SQL,
            "contract",
            "drops or changes what old code uses: DROP COLUMN",
        ),
        (
            "database/migrations/2024_01_01_000000_a.php",
            LARAVEL_EXPAND,
            "expand",
            "adds only: $table->string",
        ),
        (
            "database/migrations/2024_02_01_000000_b.php",
            LARAVEL_CONTRACT,
            "contract",
            "drops or changes what old code uses: dropColumn",
        ),
        (
            "database/migrations/2024_03_01_000000_c.php",
            LARAVEL_CREATE,
            "expand",
            "adds only: create, $table->id, $table->string, $table->timestamps",
        ),
        ("shop/migrations/0042_a.py", DJANGO_EXPAND, "expand", "adds only: AddField"),
        (
            "shop/migrations/0043_b.py",
            DJANGO_CONTRACT,
            "contract",
            "drops or changes what old code uses: RemoveField, RenameField",
        ),
        ("shop/migrations/0044_c.py", DJANGO_RUNSQL, "expand", "adds only: CREATE INDEX"),
        (
            "shop/migrations/0045_d.py",
            DJANGO_DATA,
            "unknown",
            "no schema change recognised (a data migration?)",
        ),
        (
            "alembic/versions/3f1a2b4c5d6e_a.py",
            ALEMBIC_EXPAND,
            "expand",
            "adds only: op.add_column, op.create_index",
        ),
        (
            "alembic/versions/4f1a2b4c5d6e_b.py",
            ALEMBIC_CONTRACT,
            "contract",
            "drops or changes what old code uses: op.alter_column",
        ),
        (
            "migrations/versions/5f1a2b4c5d6e_c.py",
            ALEMBIC_RAW_SQL,
            "contract",
            "drops or changes what old code uses: DROP COLUMN",
        ),
        (
            "db/migration/V2__shipping.sql",
            FLYWAY_EXPAND,
            "expand",
            "adds only: ADD COLUMN, CREATE INDEX",
        ),
        (
            "db/migration/V3__drop.sql",
            FLYWAY_CONTRACT,
            "contract",
            "drops or changes what old code uses: DROP COLUMN",
        ),
        (
            "prisma/migrations/20240101120000_init/migration.sql",
            PRISMA_INIT,
            "expand",
            "adds only: CREATE TABLE, CREATE INDEX",
        ),
        ("db/changelog/changes/002.xml", LIQUIBASE_XML, "expand", "adds only: addColumn"),
        (
            "db/changelog/changes/003.yaml",
            LIQUIBASE_YAML,
            "contract",
            "drops or changes what old code uses: renameColumn",
        ),
    ],
)
def test_each_framework_is_read_forward_only(path: str, text: str, kind: str, reason: str) -> None:
    assert classify(path, text) == (kind, reason)


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("ALTER TABLE t ALTER COLUMN note DROP NOT NULL;", "expand"),  # relaxing is safe
        ("ALTER TABLE t ALTER COLUMN id TYPE bigint;", "contract"),
        ("ALTER TABLE t ALTER COLUMN note SET NOT NULL;", "contract"),
        ("ALTER TABLE t ADD total numeric(10, 2), DROP COLUMN subtotal;", "contract"),
        ("ALTER TABLE t RENAME COLUMN a TO b;", "contract"),
        ("RENAME TABLE a TO b;", "contract"),
        ("ALTER TABLE t MODIFY note varchar(10);", "contract"),
        ("DROP TABLE legacy_orders;", "contract"),
        ("UPDATE t SET a = 1;", "unknown"),
    ],
)
def test_sql_statements(sql: str, kind: str) -> None:
    assert classify("db/migration/V9__x.sql", sql)[0] == kind


# --------------------------------------------------------------------------- the check


def change(path: str, *, new: bool = True, diff: str = "", **flags: bool) -> FileChange:
    return FileChange(old_path=path, new_path=path, new_file=new, diff=diff, **flags)


DROP = "db/migrate/20261124164500_drop_legacy_state_from_orders.rb"
ADD = "db/migrate/20261120101500_add_shipping_provider_to_orders.rb"
OLD = "db/migrate/20260814093000_create_orders.rb"


def orders_comparison(*, timed_out: bool = False) -> Comparison:
    """From the rollback target to the running commit of the orders service."""
    return Comparison(
        from_sha="a" * 40,
        to_sha="b" * 40,
        files=(
            change("app/models/order.rb", new=False),
            change(DROP),
            change(OLD, new=False),  # edited, not added: it ran long before the target
            change(ADD),
            change("db/migrate/20250101000000_gone.rb", new=False, deleted_file=True),
        ),
        commits=7,
        timed_out=timed_out,
    )


def test_files_to_read_are_the_migrations_added_since_the_target() -> None:
    assert files_to_read(orders_comparison()) == (DROP, ADD)


def test_a_rollback_across_a_destructive_migration_says_so() -> None:
    safety = check(orders_comparison(), contents={DROP: RAILS_CONTRACT, ADD: RAILS_EXPAND})
    assert safety.summary == (
        "rollback crosses 2 migrations (1 destructive: drop_legacy_state_from_orders)"
    )
    assert [m.name for m in safety.migrations] == [
        "add_shipping_provider_to_orders",
        "drop_legacy_state_from_orders",
    ], "oldest first"
    assert safety.lines == (
        f"expand: add_shipping_provider_to_orders: adds only: add_column, add_index ({ADD})",
        f"contract: drop_legacy_state_from_orders: drops or changes what old code uses: "
        f"remove_column ({DROP})",
    )
    assert not safety.safe


def test_only_expanding_migrations_are_safe() -> None:
    comparison = Comparison("a" * 40, "b" * 40, files=(change(ADD),))
    safety = check(comparison, contents={ADD: RAILS_EXPAND})
    assert safety.summary == "rollback crosses 1 migration (none destructive)"
    assert safety.safe


def test_no_migrations_at_all() -> None:
    safety = check(Comparison("a" * 40, "b" * 40), contents={})
    assert safety == RollbackSafety()
    assert safety.summary == "rollback crosses no migrations"
    assert safety.safe


def test_without_content_the_diff_is_read_and_without_either_it_is_unknown() -> None:
    diff = "@@ -0,0 +1,5 @@\n+class Drop < ActiveRecord::Migration[7.1]\n+  def up\n+    drop_table :legacy\n+  end\n+end"
    comparison = Comparison(
        "a" * 40, "b" * 40, files=(change(DROP, diff=diff), change(ADD, diff=""))
    )
    safety = check(comparison, contents={DROP: None, ADD: None})
    kinds = {m.name: (m.kind, m.reason) for m in safety.migrations}
    assert kinds["drop_legacy_state_from_orders"] == (
        "contract",
        "drops or changes what old code uses: drop_table",
    )
    assert kinds["add_shipping_provider_to_orders"] == (
        "unknown",
        "its content could not be read",
    )
    assert safety.summary == (
        "rollback crosses 2 migrations (1 destructive: drop_legacy_state_from_orders; "
        "1 not recognised: add_shipping_provider_to_orders)"
    )


def test_a_timed_out_comparison_is_never_called_safe() -> None:
    safety = check(
        orders_comparison(timed_out=True), contents={DROP: RAILS_EXPAND, ADD: RAILS_EXPAND}
    )
    assert not safety.safe
    assert safety.summary.endswith("; GitLab's comparison timed out, so the list may be incomplete")


def test_a_migration_moved_into_place_counts_as_added() -> None:
    moved = FileChange(old_path="tmp/drop.rb", new_path=DROP, renamed_file=True, diff="")
    assert files_to_read(Comparison("a" * 40, "b" * 40, files=(moved,))) == (DROP,)


def comparison_from_payload(payload: dict[str, object], from_sha: str) -> Comparison:
    diffs = payload["diffs"]
    assert isinstance(diffs, list)
    commit = payload["commit"]
    assert isinstance(commit, dict)
    return Comparison(
        from_sha=from_sha,
        to_sha=str(commit["id"]),
        files=tuple(
            FileChange(
                old_path=d["old_path"],
                new_path=d["new_path"],
                new_file=d["new_file"],
                deleted_file=d["deleted_file"],
                renamed_file=d["renamed_file"],
                diff=d["diff"],
            )
            for d in diffs
        ),
        commits=len(payload["commits"]),  # type: ignore[arg-type]
        timed_out=bool(payload["compare_timeout"]),
    )


def test_gitlabs_compare_example_crosses_no_migration() -> None:
    payload = load_fixture("gitlab/repository-compare.json")
    comparison = comparison_from_payload(
        payload, from_sha="ae73cb07c9eeaf35924a10f713b364d32b2dd34f"
    )
    assert files_to_read(comparison) == ()
    safety = check(comparison, contents={})
    assert safety.summary == "rollback crosses no migrations"


def test_gitlabs_compare_shape_with_an_added_migration_read_from_its_diff() -> None:
    """The real payload's shape (escaped quotes, hunk headers), with the file it changes
    replaced by a new Rails migration: the diff's added lines are enough to judge it."""
    payload = load_fixture("gitlab/repository-compare.json")
    entry = dict(payload["diffs"][0])
    entry.update(
        new_path=DROP,
        old_path=DROP,
        new_file=True,
        diff="--- /dev/null\n+++ b/"
        + DROP
        + '\n@@ -0,0 +1,5 @@\n+class DropLegacyStateFromOrders < ActiveRecord::Migration[7.1]\n+  def up\n+    remove_column :orders, :legacy_state, comment: "was \\"legacy\\""\n+  end\n+end',
    )
    payload = {**payload, "diffs": [entry]}
    safety = check(comparison_from_payload(payload, "a" * 40), contents={})
    assert safety.summary == (
        "rollback crosses 1 migration (1 destructive: drop_legacy_state_from_orders)"
    )
