"""Secrets inside URLs: the one place that decides what of a URL may be shown.

A URL setting can carry a credential in three places: its userinfo (``user:password@host``), a
query parameter (``?access_token=...``) or a fragment parameter (``#access_token=...``). Every
place that shows or logs a URL goes through :func:`mask_url` (one URL) or :func:`mask_urls_in`
(free text, used by the log redaction), so the rules below hold everywhere:

- a password is always masked;
- a user name is masked when it looks like a token rather than an account name: 32 characters
  or more, 16 or more with a digit, or any character besides letters, digits, ``.``, ``_`` and
  ``-`` (``https://TOKEN@host`` is a common way to pass a token; ``crm@db`` is a role name worth
  seeing);
- a query or fragment parameter whose name contains ``token``, ``key``, ``password``,
  ``passwd``, ``pwd``, ``secret``, ``sig``, ``auth``, ``session`` or ``credential``
  (case-insensitive) has its value masked; its name stays.

Parsing is deliberately lenient and errs towards masking: a password holding an unescaped ``/``
(which SQLAlchemy accepts in database URLs) is still found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["MASK", "embedded_credentials", "mask_url", "mask_urls_in", "url_secrets"]

MASK = "****"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A URL inside free text: up to whitespace, a quote or an angle bracket, leaving out the
# punctuation of the sentence around it.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]*[^\s\"'<>`.,;:!?)\]}]")
_SECRET_WORDS = (
    "token",
    "key",
    "password",
    "passwd",
    "pwd",
    "secret",
    "sig",
    "auth",
    "session",
    "credential",
)
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class _Parts:
    """A URL cut into the pieces that can hold a secret; joined they give the URL back."""

    prefix: str  # scheme and ``//``
    user: str | None  # None: no userinfo at all
    password: str | None  # None: no ``:`` in the userinfo
    host_and_path: str
    query: str | None  # without the ``?``
    fragment: str | None  # without the ``#``


def _parse(url: str) -> _Parts | None:
    scheme = _SCHEME.match(url)
    if scheme is None:
        return None
    prefix, rest = url[: scheme.end()], url[scheme.end() :]
    rest, hash_mark, fragment = rest.partition("#")
    rest, question_mark, query = rest.partition("?")
    user: str | None = None
    password: str | None = None
    # RFC 3986: the authority ends at the first "/", and its last "@" ends the userinfo.
    authority = rest.split("/", 1)[0]
    at = authority.rfind("@") if "@" in authority else rest.find("@")
    if at >= 0 and _is_userinfo(rest[:at]):
        user, colon, secret = rest[:at].partition(":")
        password = secret if colon else None
        rest = rest[at + 1 :]
    return _Parts(
        prefix,
        user,
        password,
        rest,
        query if question_mark else None,
        fragment if hash_mark else None,
    )


def _is_userinfo(candidate: str) -> bool:
    """Whether the text before an ``@`` is userinfo rather than a host and path.

    RFC 3986 userinfo holds no ``/``; SQLAlchemy also accepts ``user:pa/ss@host``. A ``:``
    followed by something other than a port number before the first ``/`` means the latter.
    """
    first_segment = candidate.split("/", 1)[0]
    if first_segment == candidate:
        return True
    _, colon, after = first_segment.partition(":")
    return bool(colon) and not after.isdigit()


def _looks_like_token(user: str) -> bool:
    if not _ACCOUNT_NAME.match(user):
        return True
    return len(user) >= 32 or (len(user) >= 16 and any(char.isdigit() for char in user))


def _secret_parameter(name: str) -> bool:
    lowered = unquote(name).lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _parameters(text: str) -> list[tuple[str, str, str]]:
    """``name``, ``=`` (or ``""``), ``value`` for each ``&``-separated parameter."""
    return [item.partition("=") for item in text.split("&")]


def _masked_parameters(text: str) -> str:
    return "&".join(
        f"{name}={MASK}" if equals and value and _secret_parameter(name) else name + equals + value
        for name, equals, value in _parameters(text)
    )


def mask_url(url: str) -> str:
    """``url`` with its secrets replaced by ``****``; any other text is returned unchanged."""
    parts = _parse(url)
    if parts is None:
        return url
    text = parts.prefix
    if parts.user is not None:
        text += MASK if parts.user and _looks_like_token(parts.user) else parts.user
        if parts.password is not None:
            text += ":" + (MASK if parts.password else "")
        text += "@"
    text += parts.host_and_path
    if parts.query is not None:
        text += "?" + _masked_parameters(parts.query)
    if parts.fragment is not None:
        fragment = parts.fragment
        text += "#" + (_masked_parameters(fragment) if "=" in fragment else fragment)
    return text


def mask_urls_in(text: str) -> str:
    """``text`` with every URL in it passed through :func:`mask_url`."""
    return _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text)


def url_secrets(url: str) -> list[str]:
    """The values :func:`mask_url` hides, as written and percent-decoded (for redaction lists)."""
    parts = _parse(url)
    if parts is None:
        return []
    found: list[str] = []
    if parts.user and _looks_like_token(parts.user):
        found.append(parts.user)
    if parts.password:
        found.append(parts.password)
    for section in (parts.query, parts.fragment):
        if section:
            found += [
                value
                for name, equals, value in _parameters(section)
                if equals and value and _secret_parameter(name)
            ]
    return sorted({form for value in found for form in (value, unquote(value))})


def embedded_credentials(url: str) -> list[str]:
    """What credentials ``url`` carries, described without their values (empty: none).

    Any userinfo counts, even a plain user name: HTTP clients turn it into a Basic
    ``Authorization`` header.
    """
    parts = _parse(url)
    if parts is None:
        return []
    found: list[str] = []
    if parts.password:
        found.append("a user name and password" if parts.user else "a password")
    elif parts.user:
        found.append("a user name")
    for label, section in (("query", parts.query), ("fragment", parts.fragment)):
        if section:
            found += [
                f"the {label} parameter {unquote(name)!r}"
                for name, equals, value in _parameters(section)
                if equals and value and _secret_parameter(name)
            ]
    return found
