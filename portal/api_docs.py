"""Swagger UI for the API schema, under the site's Content-Security-Policy.

The split view serves its start-up script as a file (no inline script); the
installed template's one small inline <style> block is allowed by its hash, computed from
that template so an upgrade cannot silently break the page. templates/api_docs.html
extends it with the portal's header and a way back.
"""

from __future__ import annotations

import base64
import hashlib
import re

from csp.decorators import csp_update
from django.template.loader import get_template
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView

SWAGGER_TEMPLATE = "drf_spectacular/swagger_ui.html"


def inline_style_hashes(template_name: str) -> list[str]:
    """CSP hash sources of every inline <style> block of ``template_name``."""
    source = get_template(template_name).template.source
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in blocks
    ]


@method_decorator(csp_update({"style-src": inline_style_hashes(SWAGGER_TEMPLATE)}), name="get")
class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api_docs.html"
