# Placeholder so users 0004 (TOTP keys encrypted) has its parent on this branch; the coordinator
# replaces it with the real 0003 (session generation, audit target) from the h3 branch at merge.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_page_indexes"),
    ]

    operations = []
