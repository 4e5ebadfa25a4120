"""The objects of an account's discounts: coupons and the promotion codes customers redeem them with."""

from __future__ import annotations

import string
from typing import Any

from .realism import CURRENCIES, MONTH

CODE_WORDS = ("WELCOME", "SPRING", "SUMMER", "FALL", "BLACKFRIDAY", "PARTNER", "LAUNCH", "FRIENDS", "VIP", "SAVE")


class DiscountObjects:
    """Part of Factory (see factory.py)."""

    def coupon(self, created: int, now: int) -> dict[str, Any]:
        rng = self.rng
        obj = self._base("coupon", created)
        obj["id"] = self.new_id("coupon", string.ascii_uppercase + string.digits)
        percent = rng.random() < 0.7
        duration = rng.choice(("once", "repeating", "forever"))
        redeem_by = created + rng.randrange(1, 13) * MONTH if rng.random() < 0.3 else None
        max_redemptions = rng.choice((None, None, 50, 100, 500))
        redeemed = rng.randrange(0, (max_redemptions or 200) + 1)
        obj.update(
            percent_off=rng.choice((10.0, 15.0, 20.0, 25.0, 50.0)) if percent else None,
            amount_off=None if percent else rng.choice((500, 1000, 2500)),
            currency=None if percent else rng.choice(CURRENCIES),
            duration=duration,
            duration_in_months=rng.choice((3, 6, 12)) if duration == "repeating" else None,
            redeem_by=redeem_by,
            max_redemptions=max_redemptions,
            times_redeemed=redeemed,
            valid=(redeem_by is None or redeem_by > now) and (max_redemptions is None or redeemed < max_redemptions),
            metadata={},
        )
        obj["name"] = f"{obj['percent_off']:g}% off" if percent else f"{obj['amount_off'] / 100:g} {obj['currency'].upper()} off"
        return obj


    def promotion_code(self, created: int, coupon: dict[str, Any], customer: str | None) -> dict[str, Any]:
        """A code for `coupon`, which it embeds (as Stripe renders it: the coupon as it is now, see with_coupon)."""
        rng = self.rng
        obj = self._base("promotion_code", created)
        max_redemptions = rng.choice((None, None, None, 1, 100))
        obj.update(
            code=f"{rng.choice(CODE_WORDS)}{rng.randrange(5, 60)}{rng.choice(string.ascii_uppercase)}",
            coupon=coupon,
            customer=customer,
            active=True,
            expires_at=created + rng.randrange(1, 7) * MONTH if rng.random() < 0.3 else None,
            max_redemptions=max_redemptions,
            times_redeemed=rng.randrange(0, (max_redemptions or 40) + 1),
            metadata={},
            restrictions={
                "first_time_transaction": rng.random() < 0.2,
                "minimum_amount": None,
                "minimum_amount_currency": None,
            },
        )
        return obj
