"""Before flock names become unique in any letter case (0006), give each duplicate a free name.

In each group of names equal but for letter case (as the database lowers them, the unique
index's own expression), the oldest flock keeps its name, the default flock always; the others
become "Name (2)", "Name (3)" … (cut to fit 100 characters, skipping names already taken), each
rename audited as ``flock_rename`` by the migration. Unique names stay as they are.
"""

from collections import defaultdict

from django.db import migrations
from django.db.models.functions import Lower

NAME_MAX_LENGTH = 100
DEFAULT_FLOCK_ID = "flock:default"
ACTOR = "migration flocks.0005"


def numbered(name: str, number: int) -> str:
    suffix = f" ({number})"
    return name[: NAME_MAX_LENGTH - len(suffix)].rstrip() + suffix


def rename_duplicates(apps, schema_editor):
    Flock = apps.get_model("flocks", "Flock")
    AuditEntry = apps.get_model("users", "AuditEntry")
    rows = Flock.objects.annotate(key=Lower("name")).order_by("created", "flock_id")
    groups = defaultdict(list)
    for flock in rows:
        groups[flock.key].append(flock)
    taken = set(groups)
    for group in groups.values():
        group.sort(key=lambda flock: flock.flock_id != DEFAULT_FLOCK_ID)  # stable: then oldest
        for flock in group[1:]:
            number = 2
            while numbered(flock.key, number) in taken:  # lowered as the database lowers
                number += 1
            taken.add(numbered(flock.key, number))
            before, name = flock.name, numbered(flock.name, number)
            Flock.objects.filter(pk=flock.pk).update(name=name)
            AuditEntry.objects.create(
                action_type="flock_rename",
                message=f"Renamed flock {before} to {name}: flock names are unique now",
                actor_label=ACTOR,
                flock_id=flock.flock_id,
                additional_information={"before": before, "after": name},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("flocks", "0004_flock_name_order_index"),
        ("users", "0003_session_generation_audit_target"),
    ]

    operations = [migrations.RunPython(rename_duplicates, migrations.RunPython.noop)]
