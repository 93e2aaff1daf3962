"""A browser and device people recognise, read from a User-Agent header ("Firefox 133 on
Windows", "Safari on iPhone").

Enough for a list of one's own sessions: a handful of patterns, checked in order (Edge and
Opera also say "Chrome", Chrome also says "Safari", iPads may say "Macintosh"), no database of
every agent. A header is client-supplied: whatever it says is only shown, never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (name, pattern whose first group is the version or None), the first match wins.
_BROWSERS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("Edge", r"\bEdg(?:e|A|iOS)?/(\d+)"),
        ("Opera", r"\b(?:OPR|Opera)/(\d+)"),
        ("Samsung Internet", r"\bSamsungBrowser/(\d+)"),
        ("Firefox", r"\b(?:Firefox|FxiOS)/(\d+)"),
        ("Chromium", r"\bChromium/(\d+)"),
        ("Chrome", r"\b(?:HeadlessChrome|Chrome|CriOS)/(\d+)"),
        ("Safari", r"\bVersion/(\d+)(?:[.\d]*)(?: Mobile/\S+)? Safari/"),
        ("curl", r"\bcurl/(\d+)"),
        ("Python requests", r"\bpython-requests/(\d+)"),
    ]
]
# (device or system, pattern), the first match wins.
_SYSTEMS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("iPhone", r"\biPhone\b"),
        ("iPad", r"\biPad\b"),
        ("Android", r"\bAndroid\b"),
        ("ChromeOS", r"\bCrOS\b"),
        ("Windows", r"\bWindows\b"),
        ("macOS", r"\bMac OS X\b|\bMacintosh\b"),
        ("Linux", r"\bLinux\b|\bX11\b"),
    ]
]
_PHONES = {"iPhone"}
_TABLETS = {"iPad"}


@dataclass(frozen=True)
class Device:
    """What a User-Agent says about the browser (``""`` when unknown) and the system."""

    browser: str
    version: str
    system: str
    kind: str  # "phone", "tablet", "computer" or "" (unknown)

    @property
    def label(self) -> str:
        """E.g. "Firefox 133 on Windows", "Safari on iPhone", "Unknown browser"."""
        browser = f"{self.browser} {self.version}".strip() if self.browser else "Unknown browser"
        return f"{browser} on {self.system}" if self.system else browser


def describe(user_agent: str) -> Device:
    """The browser and device ``user_agent`` names (unknown parts left empty)."""
    browser = version = ""
    for name, pattern in _BROWSERS:
        if match := pattern.search(user_agent):
            browser, version = name, match.group(1)
            break
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if system == "Android":
        kind = "phone" if "Mobile" in user_agent else "tablet"
    elif system in _PHONES:
        kind = "phone"
    elif system in _TABLETS:
        kind = "tablet"
    else:
        kind = "computer" if system else ""
    return Device(browser=browser, version=version, system=system, kind=kind)
