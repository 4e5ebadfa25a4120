"""Who may ask the sandbox what, in Stripe's order and words: the key, the account it acts for, Connect, and the
permission a restricted key needs for each table."""

from __future__ import annotations

import base64

from . import keys as keys_module
from .spec import OBJECT_TABLES, TABLE_OBJECTS, Endpoint
from .state import SandboxState

# The table of a platform's connected accounts; its permission is Stripe's Connect permission.
CONNECTED_ACCOUNTS_TABLE = OBJECT_TABLES["account"]


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", **extra: str):
        super().__init__(message)
        self.status = status
        self.error = {"type": type, "message": message, **extra}


def admitted(state: SandboxState, headers: dict[str, str]) -> tuple[str, str]:
    """The key a request carries and the account it acts for, or Stripe's refusal of either."""
    key = _api_key(headers)
    if key is None:
        raise ApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        )
    if not state.keys.is_valid(key):
        raise ApiError(401, f"Invalid API Key provided: {keys_module.mask(key)}")
    account_id = headers.get("stripe-account") or state.platform.id
    if account_id not in state.accounts or account_id in state.revoked_accounts:
        raise ApiError(
            403,
            f"The provided key '{keys_module.mask(key)}' does not have access to account '{account_id}' "
            "(or that account does not exist). Application access may have been revoked.",
            code="account_invalid",
        )
    if key.startswith("rk_") and headers.get("stripe-account") and not state.keys.can_read(key, CONNECTED_ACCOUNTS_TABLE):
        raise ApiError(
            403,
            "You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have "
            "any Connect permissions.",
        )
    return key, account_id


def refuse_what_the_key_may_not_read(state: SandboxState, key: str, account_id: str, endpoint: Endpoint) -> None:
    if endpoint.table == CONNECTED_ACCOUNTS_TABLE:
        _refuse_unless_a_platform(state, account_id)
    table = endpoint.table or ("events" if endpoint.kind in ("events", "event") else None)
    if table and not state.keys.can_read(key, table):
        raise ApiError(
            403,
            f"The provided key '{keys_module.mask(key)}' does not have the required permissions for this "
            f"endpoint on account '{account_id}'. Having the '{keys_module.PERMISSIONS[table]}' permission "
            "would allow this request to continue.",
        )
    if endpoint.kind == "account" and key.startswith("rk_"):
        raise _account_refused_to_restricted_key(state, key, account_id)


def refuse_products_the_account_lacks(state: SandboxState, account_id: str, endpoint: Endpoint) -> None:
    """An account that does not use Stripe Issuing is told so, as a malformed request."""
    if endpoint.table and TABLE_OBJECTS[endpoint.table].startswith("issuing.") and not state.uses_issuing(account_id):
        raise ApiError(
            400,
            "Your account is not set up to use Issuing. Please visit https://dashboard.stripe.com/issuing/overview "
            "to get started.",
        )


def _refuse_unless_a_platform(state: SandboxState, account_id: str) -> None:
    """Only a Connect platform sees connected accounts, and never those of its connected accounts."""
    if state.accounts[account_id].connected:
        raise ApiError(403, "You cannot access the connected accounts of your platform's connected accounts.")
    if not state.knobs.connect_platform:
        raise ApiError(
            403,
            "Only Stripe Connect platforms can work with other accounts. If you need to set up a Stripe Connect "
            "platform, you can do so at https://dashboard.stripe.com/account/applications/settings.",
        )


def _account_refused_to_restricted_key(state: SandboxState, key: str, account_id: str) -> ApiError:
    """Stripe never lets a restricted key read the account, whatever it was granted: older accounts say no
    permission would do, newer ones name one that no restricted key can be given either."""
    if state.knobs.account_403_names_permission:
        why = "Having the 'rak_accounts_kyc_id_numbers_read' permission would allow this request to continue."
    else:
        why = "This is a restricted API key, but the required permissions are not available for use by restricted keys."
    return ApiError(
        403,
        f"The provided key '{keys_module.mask(key)}' does not have the required permissions for this endpoint on "
        f"account '{account_id}'. {why}",
    )


def _api_key(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "").strip()
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().split(":", 1)[0] or None
        except (ValueError, UnicodeDecodeError):
            return None
    return None
