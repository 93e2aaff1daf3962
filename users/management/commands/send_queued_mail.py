"""The mail worker: fans mail jobs out into mails, one batch a pass, and sends queued mails
(users/mail.py) until stopped.

Run one beside the app servers (``bin/serve`` does in development). Several may run:
each mail is sent under its row's lock, so two workers never send the same one at once.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection

from users import mail

logger = logging.getLogger("portal.mail")


class Command(BaseCommand):
    help = "Send queued mails with retries and backoff; --once sends what is due and exits."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="one pass over the due mails, then exit"
        )
        parser.add_argument(
            "--interval", type=float, default=2.0, help="seconds between passes (default 2)"
        )

    def handle(self, *args, once: bool = False, interval: float = 2.0, **options) -> None:
        if once:
            fanned = mail.fan_out()
            summary = ", ".join(f"{n} {what}" for what, n in sorted(mail.send_due().items()))
            jobs = f" Mail jobs: {fanned} users handled." if fanned else ""
            self.stdout.write(f"Mail: {summary or 'nothing due'}.{jobs}")
            return
        stop = threading.Event()  # SIGTERM ends the worker between two mails, never inside one
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            close_old_connections()  # drops a connection the database closed (a restart)
            busy = False
            try:
                busy = mail.fan_out() > 0
                busy = sum(mail.send_due().values()) >= mail.SEND_BATCH or busy
            except DatabaseError as exc:  # the database restarting: try again next pass
                logger.warning("Mail worker: database unavailable (%s); trying again", exc)
                connection.close()
            stop.wait(0 if busy else interval)  # a backlog (a mail job) goes out without pauses
