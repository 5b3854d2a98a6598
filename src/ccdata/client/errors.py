"""Typed errors: each carries the facade's own code and message."""

from __future__ import annotations


class CecError(Exception):
    """Any error answer of a CEC interface (or of ccdata)."""

    def __init__(self, code: str, message: str, status: int = 200) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


class AuthError(CecError):
    """HTTP 401 (or 403): the credential, signature, token or GUID was refused."""


class CmsError(CecError):
    """A CC-CMS business error: `resultCode` (e.g. 0100002 invalid parameter, 0101003 no permission)."""


class GatewayError(CecError):
    """A CC-Gateway `retcode` other than 0 (e.g. 100-006 not signed in, 000-003 wrong Guid)."""


class DataProcessError(CecError):
    """A DataProcess or API Fabric error status (400, 404, 500)."""
