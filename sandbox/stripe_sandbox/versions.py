"""Older API-version shapes, for the few events Stripe renders at an account's earlier pinned version.

Stripe renders an event's `data.object` at the API version the account had when the event was
created, so an account that upgraded recently still lists some events in the old shape. Only types
whose shape visibly differs are downgraded; the differences are read off Stripe's published
descriptions for 2020-08-27 and 2023-08-16 (and the 2020-08-27 changelog for customers).
"""

from __future__ import annotations

from typing import Any

# Object type -> (older version, fields that version does not have yet)
_OLDER: dict[str, tuple[str, tuple[str, ...]]] = {
    "customer": ("2020-03-02", ()),
    "product": ("2020-08-27", ("default_price", "features")),
    "price": ("2020-08-27", ("custom_unit_amount",)),
    "subscription": (
        "2020-08-27",
        ("application", "cancellation_details", "currency", "description", "on_behalf_of", "trial_settings"),
    ),
    "payment_intent": ("2020-08-27", ("amount_details", "latest_charge")),
    "charge": ("2020-08-27", ()),
    "dispute": ("2020-08-27", ("payment_method_details",)),
    "setup_intent": ("2020-08-27", ("automatic_payment_methods", "flow_directions")),
    "setup_attempt": ("2020-08-27", ("flow_directions",)),
}


def _empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": url}


def has_older_shape(object_type: str) -> bool:
    return object_type in _OLDER


def downgrade(
    obj: dict[str, Any], previous: dict[str, Any] | None
) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Return (api_version, object, previous_attributes) as Stripe would render them for the older version."""
    version, missing = _OLDER[obj["object"]]
    old = {k: v for k, v in obj.items() if k not in missing}
    if obj["object"] == "customer":
        # Before 2020-08-27 a customer embedded its sources, subscriptions and tax ids.
        for name in ("sources", "subscriptions", "tax_ids"):
            old[name] = _empty_list(f"/v1/customers/{obj['id']}/{name}")
    elif obj["object"] == "payment_intent":
        # Before 2022-11-15 a payment intent embedded its charges instead of naming the latest one.
        old["charges"] = _empty_list(f"/v1/charges?payment_intent={obj['id']}")
    elif obj["object"] == "charge":
        # Before 2022-11-15 a charge embedded its refunds.
        old["refunds"] = _empty_list(f"/v1/charges/{obj['id']}/refunds")
    if previous is not None:
        previous = {k: v for k, v in previous.items() if k not in missing}
    return version, old, previous
