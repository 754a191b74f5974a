"""Database URL helpers: the password lives only in an env var, never in a file or a log line."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit


def _netloc(user: str | None, password: str | None, host: str) -> str:
    if user is None:
        return host
    auth = quote(user, safe="")
    if password is not None:
        auth += ":" + quote(password, safe="")
    return f"{auth}@{host}"


def _hostport(netloc: str) -> str:
    return netloc.rpartition("@")[2]


def without_password(url: str) -> str:
    """`postgresql://u:pw@h/db?password=pw` -> `postgresql://u@h/db` (safe for files, logs)."""
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username is not None else None
    query = parts.query
    if query:  # libpq and asyncpg also take the password as a query parameter
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                if k.lower() != "password"]
        query = urlencode(kept)
    return urlunsplit(parts._replace(netloc=_netloc(user, None, _hostport(parts.netloc)),
                                     query=query))


def with_password(url: str, password: str | None) -> str:
    """Put `password` into `url` unless it already carries one (an explicit URL wins)."""
    parts = urlsplit(url)
    if password is None or parts.password is not None or parts.username is None:
        return url
    user = unquote(parts.username)
    return urlunsplit(parts._replace(netloc=_netloc(user, password, _hostport(parts.netloc))))


def for_asyncpg(url: str) -> str:
    """asyncpg takes `postgresql://`; SQLAlchemy-style `postgresql+asyncpg://` is accepted too."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"
