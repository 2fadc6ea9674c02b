"""The API versions the emulated org serves, and the release each one came with.

Salesforce supports versions 31.0 through 68.0 (Winter '27) as of this writing; 21.0-30.0 were
retired in Summer '25 (SOAP API End-of-Life Policy,
https://developer.salesforce.com/docs/platform/ajax/guide/sforce-api-ajax-eol.html). Three
releases a year, Spring/Summer/Winter, the Winter one named after the next year: 30.0 was
Spring '14, 66.0 Spring '26. ``GET /services/data`` lists every served version; a path naming
another one is answered ``NOT_FOUND``.

SOAP ``login()`` is refused from 65.0 on (``INVALID_OPERATION``, "The SOAP Login operation is
not available in the API version specified (65.0)...", as a client reported in
forcedotcom/wsc#363); Salesforce retires it for every version in Summer '27.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["LAST_SOAP_LOGIN_VERSION", "SERVED_VERSIONS", "release_label", "served"]

OLDEST: Final = 31
NEWEST: Final = 68
LAST_SOAP_LOGIN_VERSION: Final = 64
SERVED_VERSIONS: Final = tuple(f"{number}.0" for number in range(OLDEST, NEWEST + 1))
_SEASONS: Final = ("Spring", "Summer", "Winter")
_NUMBER: Final = re.compile(r"^(\d{2,3})\.0$")


def release_label(version: str) -> str:
    """``"66.0"`` -> ``"Spring '26"``."""
    index = int(float(version)) - 30  # 30.0 was Spring '14
    return f"{_SEASONS[index % 3]} '{14 + (index + 1) // 3:02d}"


def served(version: str) -> bool:
    """Whether ``version`` (without the ``v``) is one the org answers."""
    match = _NUMBER.match(version)
    return match is not None and OLDEST <= int(match.group(1)) <= NEWEST
