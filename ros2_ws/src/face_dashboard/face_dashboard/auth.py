"""Who may see what: a token from the configuration makes a request staff or admin.

Browsers send it as HTTP Basic (any user name, the token as password: the browser asks once and
then sends it with every request, the live stream and images included); BI tools send
``Authorization: Bearer <token>``. No token or a wrong one gets 401 (with the Basic challenge, so a
browser asks); a staff token on an admin-only page gets 403.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from enum import StrEnum

from fastapi import HTTPException, Request, status

from face_dashboard.settings import DashboardSettings

REALM = 'Basic realm="store dashboard", charset="UTF-8"'


class Role(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


def presented_token(authorization: str | None) -> str | None:
    """The token in an ``Authorization`` header (Bearer, or Basic's password); None when there is none."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def role_of(token: str | None, settings: DashboardSettings) -> Role | None:
    """The role a token grants (admin wins), compared in constant time; None for no or a wrong token."""
    if token is None:
        return None
    given = token.encode()
    for role, tokens in ((Role.ADMIN, settings.admin_tokens), (Role.STAFF, settings.staff_tokens)):
        if any(hmac.compare_digest(given, t.get_secret_value().encode()) for t in tokens):
            return role
    return None


def require_role(request: Request, needed: Role) -> Role:
    """The caller's role, or the 401/403 that stops the request."""
    settings: DashboardSettings = request.app.state.settings
    role = role_of(presented_token(request.headers.get("authorization")), settings)
    if role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a staff or admin token is needed", {"WWW-Authenticate": REALM}
        )
    if needed is Role.ADMIN and role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may see per-ID data or erase a face")
    return role


def staff(request: Request) -> Role:
    """Dependency: staff or admin."""
    return require_role(request, Role.STAFF)


def admin(request: Request) -> Role:
    """Dependency: admin only."""
    return require_role(request, Role.ADMIN)
