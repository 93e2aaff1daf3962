"""Gunicorn settings: ``gunicorn -c python:portal.gunicorn portal.wsgi``.

Each value can be overridden from the environment (or on the command line).
Sync workers suit this app: requests are short and bcrypt holds a core anyway,
so one worker per request in flight, a couple per core.
"""

import multiprocessing
import os

bind = os.environ.get("PORTAL_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so slow leaks cannot build up.
max_requests = 2000
max_requests_jitter = 200
# The proxy in front sets X-Forwarded-*; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
logger_class = "portal.logs.RedactingGunicornLogger"  # auth_token=*** in request lines
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
