"""nginx on loopback in front of a test server, started and stopped by the test (Debian's
nginx, run in the foreground from a temporary folder: nothing else on the machine is touched)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from live_helpers import free_port, wait_until_serving

CONFIG = """
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


@contextmanager
def nginx(upstream: str) -> Iterator[str]:
    """A reverse proxy to ``upstream`` that appends the peer to X-Forwarded-For; yields its URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="portal-nginx-") as folder:
        config = Path(folder) / "nginx.conf"
        config.write_text(CONFIG.format(dir=folder, port=port, upstream=upstream))
        with open(Path(folder) / "stderr.log", "wb") as log:
            process = subprocess.Popen([binary, "-c", str(config), "-p", folder], stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(url, process, "nginx (see its error.log)", seconds=20)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)
