"""Camera URLs with credentials: read them whatever the password holds, never show them.

A URL comes from an environment variable as the user typed it, e.g.
``rtsp://admin:pa/ss#1@cam.local:554/stream``: the password may hold ``/``, ``#``, ``@``,
``%`` or ``:``, which a URL parser reads as structure. So the user info is taken as
everything between ``://`` and the last ``@`` that is followed by a host, split at its first
``:``, and handed to FFmpeg percent-encoded (FFmpeg decodes it for RTSP auth). User and
password are taken exactly as typed: ``%41`` in a password is those three characters, never
an ``A`` (no character needs escaping here, so none is unescaped).

:class:`Scrubber` removes a URL's secrets from any text (error messages quote the URL they
failed on): the password as typed and encoded, user info in any URL, and
``password=``-style parameters that vendor URLs carry in the path or query. It never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)(.*)$", re.S)
_HOST_AHEAD = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::\d*)?(?=[/?#]|$)")
# Vendor URLs: /user=admin&password=...&channel=1, ?pwd=..., ;password=...
SECRET_PARAM = re.compile(r"(?i)((?:^|(?<=[/?&;]))(?:password|passwd|pwd|pass|pw)=)[^&;/\s#'\"]*")
# User info of any URL in a message (greedy up to the last '@' before a blank or quote).
_ANY_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^\s'\"]*@")
MASK = "***"


@dataclass(frozen=True, slots=True)
class CameraUrl:
    """A URL split into what FFmpeg needs and what must never be shown."""

    prefix: str  # scheme://
    user: str | None  # as typed
    password: str | None  # as typed
    rest: str  # host[:port][/path][?query], as given

    @property
    def for_ffmpeg(self) -> str:
        """The URL with the credentials percent-encoded."""
        if self.user is None:
            return self.prefix + self.rest
        info = quote(self.user, safe="")
        if self.password is not None:
            info += ":" + quote(self.password, safe="")
        return f"{self.prefix}{info}@{self.rest}"

    @property
    def shown(self) -> str:
        """For logs and diagnostics: no user info, secret parameters masked."""
        return self.prefix + SECRET_PARAM.sub(r"\1" + MASK, self.rest)


def parse_camera_url(url: str) -> CameraUrl:
    """Split `url` (see the module docstring); never raises."""
    match = _SCHEME.match(url)
    if match is None:
        return CameraUrl("", None, None, url)
    prefix, tail = match.groups()
    at = tail.rfind("@")
    while at >= 0 and not _HOST_AHEAD.match(tail[at + 1:]):
        at = tail.rfind("@", 0, at)  # an '@' in the path: look further left
    if at < 0:
        return CameraUrl(prefix, None, None, tail)
    info, rest = tail[:at], tail[at + 1:]
    user, sep, password = info.partition(":")
    return CameraUrl(prefix, user, password if sep else None, rest)


def url_has_credentials(url: str) -> bool:
    """A password in the user info, or a password parameter in the path or query."""
    parsed = parse_camera_url(url)
    return parsed.password is not None or bool(SECRET_PARAM.search(parsed.rest))


class Scrubber:
    """Removes the secrets of some URLs from text; never raises."""

    def __init__(self, *urls: str) -> None:
        secrets: set[str] = set()
        forms: dict[str, str] = {}  # a way the URL may be quoted -> how it is shown
        for url in urls:
            try:
                parsed = parse_camera_url(url)
                shown = parsed.shown
                for form in (url, parsed.for_ffmpeg):
                    forms[form] = forms[repr(form)[1:-1]] = shown
                for value in (parsed.password, parsed.user):
                    if value:
                        secrets |= {value, quote(value, safe=""), repr(value)[1:-1]}
                for found in SECRET_PARAM.finditer(parsed.rest):
                    value = parsed.rest[found.end(1):found.end()]
                    if value:
                        secrets.add(value)
            except Exception:  # noqa: BLE001 - a scrubber that fails would leak
                continue
        # Longest first, so a whole URL goes before the password inside it; very short
        # values would mask ordinary words and are left to the URL patterns.
        self._forms = sorted(forms.items(), key=lambda item: len(item[0]), reverse=True)
        self._secrets = sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        try:
            for form, shown in self._forms:
                text = text.replace(form, shown)
            for secret in self._secrets:
                text = text.replace(secret, MASK)
            text = _ANY_USERINFO.sub(r"\1", text)
            return SECRET_PARAM.sub(r"\1" + MASK, text)
        except Exception:  # noqa: BLE001 - never let a secret through on a failure
            return "<message withheld: it could not be cleaned of credentials>"
