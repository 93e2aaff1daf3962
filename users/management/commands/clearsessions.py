"""``manage.py clearsessions``: Django's command, kept now that django.contrib.sessions is not
an installed app (the sessions live in ``users.session_store``). Run it daily (cron): it deletes
expired sessions."""

from django.contrib.sessions.management.commands.clearsessions import Command

__all__ = ["Command"]
