from django.db import migrations


def create_default_flock(apps, schema_editor):
    Flock = apps.get_model("flocks", "Flock")
    Flock.objects.get_or_create(flock_id="flock:default", defaults={"name": "Default Flock"})


class Migration(migrations.Migration):
    dependencies = [("flocks", "0001_initial")]

    operations = [migrations.RunPython(create_default_flock, migrations.RunPython.noop)]
