"""Secrets out of every output: camera passwords and other credentials never reach a log, a summary,
an error line or an events file.

Public API: :func:`redact` (text, or any JSON-ready value: strings inside are redacted),
:func:`remember` (a credential to hide wherever it appears), :data:`MASK`.

What is hidden:

- the user info of any URL (``rtsp://user:pass@host`` -> ``rtsp://***@host``): who and how a camera
  is logged into says nothing the host does not, and user names are half of a credential;
- the values of credential-looking query parameters and ``key=value`` pairs (``password=``, ``passwd=``,
  ``pwd=``, ``token=``, ``secret=``, ``user-pw=``, ``api-key=``...);
- every value :func:`remember` was given: the passwords of the configured URLs (also percent-decoded,
  as GStreamer may quote them) and the value of any config key declared ``secret``.

Every writer of user-facing text calls :func:`redact` on what it writes; the config loader calls
:func:`remember`, so a credential is known before anything can print it.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<info>[^/@\s\"'?#]+)@")
_CREDENTIAL = re.compile(
    r"(?P<key>\b[\w\-]*(?:password|passwd|pwd|token|secret|credential|api[_\-]?key|user[_\-]pw|auth)[\w\-]*)"
    r"(?P<sep>\s*[=:]\s*)(?P<value>[^&\s\"',;]+)",
    re.IGNORECASE,
)
_MIN_REMEMBERED = 3  # shorter values would mask unrelated text (digits of a timestamp)
_remembered: set[str] = set()


def remember(secret: str) -> None:
    """Hide ``secret`` (and its percent-decoded form) wherever :func:`redact` later sees it."""
    for form in {secret, urllib.parse.unquote(secret)}:
        if len(form) >= _MIN_REMEMBERED:
            _remembered.add(form)


def remember_url(uri: str) -> None:
    """Remember the password (or the bare token) in a URL's user info."""
    match = _USERINFO.search(uri)
    if match:
        info = match.group("info")
        remember(info.split(":", 1)[1] if ":" in info else info)


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by :data:`MASK`: a string, or dicts / lists / tuples of them
    (the summary, an event record); other values come back unchanged."""
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


def _redact_text(text: str) -> str:
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    text = _CREDENTIAL.sub(lambda m: f"{m.group('key')}{m.group('sep')}{MASK}", text)
    for secret in sorted(_remembered, key=len, reverse=True):  # longest first: one may contain another
        text = text.replace(secret, MASK)
    return text
