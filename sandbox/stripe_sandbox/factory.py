"""Single Stripe objects, built from Stripe's example object for their type.

Every object starts as a copy of Stripe's example with ids, times, references, statuses and amounts
replaced. Objects are treated as immutable once built: a change always produces a new dict (see
store.py). That lets all objects of a type share the example's untouched nested values and lets an
event hold the very dict that was current when it happened, which keeps 100k-object datasets small
and fast to build.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from . import versions
from .objects_balance import BalanceObjects
from .objects_billing import BillingObjects
from .objects_catalog import CatalogObjects
from .objects_connect import ConnectObjects
from .objects_checkout import CheckoutObjects
from .objects_discounts import DiscountObjects
from .objects_wallet import WalletObjects
from .objects_issuing import IssuingObjects
from .objects_payments import PaymentObjects
from .objects_platform import PlatformObjects
from .realism import ALNUM
from .spec import Spec

# Stripe-style id prefix and random-part length per object type.
ID_FORMATS = {
    "customer": ("cus_", 14),
    "product": ("prod_", 14),
    "price": ("price_", 24),
    "shipping_rate": ("shr_", 24),
    "subscription": ("sub_", 24),
    "subscription_item": ("si_", 14),
    "usage_record_summary": ("sis_", 24),
    "payment_intent": ("pi_", 24),
    "refund": ("re_", 24),
    "dispute": ("dp_", 24),
    "setup_intent": ("seti_", 24),
    "setup_attempt": ("setatt_", 24),
    "order_return": ("orret_", 24),
    "event": ("evt_", 24),
    "account": ("acct_", 16),
    "charge": ("ch_", 24),
    "payment_method": ("pm_", 24),
    "balance_transaction": ("txn_", 24),
    "payout": ("po_", 24),
    "bank_account": ("ba_", 24),
    "item": ("li_", 24),
    "checkout.session": ("cs_", 63),  # cs_live_ or cs_test_ and 58 more (see Factory.checkout_session_id)
    "invoice": ("in_", 24),
    "line_item": ("il_", 24),
    "invoiceitem": ("ii_", 24),
    "tax_rate": ("txr_", 24),
    "credit_note": ("cn_", 24),
    "credit_note_line_item": ("cnli_", 24),
    "promotion_code": ("promo_", 24),
    "customer_balance_transaction": ("cbtxn_", 24),
    "subscription_schedule": ("sub_sched_", 24),
    "coupon": ("", 8),  # without an id of the user's choosing, eight capitals and digits (see Factory.coupon)
    "order": ("or_", 24),
    "transfer": ("tr_", 24),
    "transfer_reversal": ("trr_", 24),
    "destination_payment": ("py_", 24),
    "application_fee": ("fee_", 24),
    "fee_refund": ("fr_", 24),
    "application": ("ca_", 32),
    "topup": ("tu_", 24),
    "review": ("prv_", 24),
    "radar.early_fraud_warning": ("issfr_", 24),
    "file": ("file_", 24),
    "file_link": ("link_", 24),
    "person": ("person_", 24),
    "card": ("card_", 24),
    "issuing.cardholder": ("ich_", 24),
    "issuing.card": ("ic_", 24),
    "issuing.authorization": ("iauth_", 24),
    "issuing.transaction": ("ipi_", 24),
    "sku": ("sku_", 24),
}


def clone(value: Any) -> Any:
    return copy.deepcopy(value)


class Factory(CatalogObjects, PaymentObjects, BillingObjects, BalanceObjects, CheckoutObjects, DiscountObjects, WalletObjects, PlatformObjects, IssuingObjects, ConnectObjects):
    """Builds one object of a type; used both by generation and by the admin API's create."""

    def __init__(self, spec: Spec, rng: random.Random, livemode: bool):
        self.rng = rng
        self.livemode = livemode
        self.api_version = spec.api_version
        # One private deep copy per type; objects shallow-copy it and replace what differs.
        self.templates = {name: clone(example) for name, example in spec.examples.items()}
        self._used_ids: set[str] = set()

    def new_id(self, object_type: str, alphabet: str = ALNUM) -> str:
        prefix, length = ID_FORMATS[object_type]
        while True:
            candidate = prefix + "".join(self.rng.choices(alphabet, k=length))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def claim_id(self, object_id: str) -> None:
        self._used_ids.add(object_id)

    def _base(self, object_type: str, created: int | None) -> dict[str, Any]:
        obj = dict(self.templates[object_type])
        obj["id"] = self.new_id(object_type)
        if "livemode" in obj:
            obj["livemode"] = self.livemode
        if created is not None:
            obj["created"] = created
        return obj

    def amount(self) -> int:
        return self.rng.choice((500, 900, 1000, 1500, 2000, 2500, 4900, 9900, 19900)) + self.rng.randrange(0, 3) * 100

    def event(
        self,
        created: int,
        event_type: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
        *,
        older_version: bool = False,
    ) -> dict[str, Any]:
        version = self.api_version
        if older_version and versions.has_older_shape(obj["object"]):
            version, obj, previous = versions.downgrade(obj, previous)
        event = dict(self.templates["event"])
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event.update(
            id=self.new_id("event"),
            api_version=version,
            created=created,
            data=data,
            livemode=self.livemode,
            pending_webhooks=0,
            request={"id": None, "idempotency_key": None},
            type=event_type,
        )
        return event


def subscription_items_list(subscription_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The `items` list a subscription embeds: the first page of its `url`, so paging on from the last embedded item
    with starting_after continues it exactly, as Stripe's clients do."""
    newest_first = sorted(items, key=lambda item: (item["created"], item["id"]), reverse=True)
    return {
        "object": "list",
        "data": newest_first[:10],
        "has_more": len(items) > 10,
        "total_count": len(items),
        "url": f"/v1/subscription_items?subscription={subscription_id}",
    }


def account_object(spec: Spec, account_id: str, *, created: int, name: str, connected: bool, controlled: bool = True) -> dict[str, Any]:
    """The platform's own account, or one connected to it: Express, which the platform controls, or (not
    `controlled`) Standard, which controls itself."""
    obj = clone(spec.examples["account"])
    obj.update(
        id=account_id,
        created=created,
        email=f"billing@{name.lower().replace(' ', '-')}.example.com",
        type="express" if connected and controlled else "standard",
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        business_type="company",
    )
    obj["business_profile"]["name"] = name
    obj["settings"]["dashboard"]["display_name"] = name
    obj["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
    obj["requirements"].update(currently_due=[], eventually_due=[], disabled_reason=None)
    if connected:
        obj["controller"] = {"type": "application", "is_controller": True} if controlled else {"type": "account", "is_controller": False}
    return obj
