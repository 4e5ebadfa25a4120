"""Everything one sandbox holds: the clock, the accounts and their datasets, keys, knobs and request counts."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from .data import Generator
from .history_platform import FEE_SHARE
from .connected import ConnectedAccountObjects
from .factory import account_object
from .realism import ALNUM
from .faults import Faults, Knobs
from .keys import KeyRing
from .spec import EVENT_WINDOW, TABLES, load_spec
from .dataset import Dataset

DEFAULT_NOW = 1_793_491_200  # 2026-11-01T00:00:00Z: fixed, so runs are reproducible
CONNECTED_ACCOUNTS = ("Northwind Bakery", "Lumen Studio")
SELLER_SIZE = 30  # about how many objects a small connected account has


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    connected: bool
    size: int
    created: int
    controlled: bool = True  # by the platform (Express); a Standard account controls itself


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._by_path: dict[str, Counter[str]] = defaultdict(Counter)
            self._started = time.monotonic()

    def record(self, path: str, status: int | str) -> None:
        """`status` is the HTTP status, or how the response was broken on purpose (e.g. "reset")."""
        with self._lock:
            self._by_path[path][str(status)] += 1

    def describe(self) -> dict[str, Any]:
        with self._lock:
            by_path = {path: dict(sorted(c.items())) for path, c in sorted(self._by_path.items())}
            by_status: Counter[str] = Counter()
            for counts in self._by_path.values():
                by_status.update(counts)
            return {
                "total": sum(by_status.values()),
                "rate_limited": by_status["429"],
                "by_status": dict(sorted(by_status.items())),
                "by_path": by_path,
                "seconds": round(time.monotonic() - self._started, 3),
            }


class SandboxState:
    def __init__(self, *, seed: int = 42, size: int = 3000, now: int | None = None, knobs: Knobs | None = None, sellers: int = 0):
        """`sellers`: small connected accounts besides the two larger ones, as a marketplace has by the thousand."""
        self.spec = load_spec()
        self.seed, self.size, self.sellers = seed, size, sellers
        self.now = DEFAULT_NOW if now is None else int(now)
        self.started_at = self.now  # datasets are generated as of this moment, whenever they are first used
        self.keys = KeyRing()
        self.knobs = knobs or Knobs()
        self.faults = Faults(self.knobs, seed)
        self.stats = Stats()
        self.accounts = self._make_accounts()
        self.revoked_accounts: set[str] = set()
        self.connected_objects = ConnectedAccountObjects(self.spec, seed)
        self.account_objects = {a.id: self._account_object(a) for a in self.accounts.values()}
        self._datasets: dict[tuple[str, str], Dataset] = {}
        self._generation_lock = threading.Lock()
        self._clock_lock = threading.Lock()

    @property
    def platform(self) -> Account:
        return next(a for a in self.accounts.values() if not a.connected)

    def _make_accounts(self) -> dict[str, Account]:
        rng = random.Random(f"stripe-sandbox/{self.seed}/accounts")

        def new_id() -> str:
            return "acct_1" + "".join(rng.choices(ALNUM, k=15))

        platform = Account(new_id(), "Sandbox Platform", False, self.size, self.now - 5 * 365 * 86_400)
        self._new_account_id = new_id
        connected = [
            Account(new_id(), name, True, max(30, self.size // 10), self.now - (3 - n) * 365 * 86_400)
            for n, name in enumerate(CONNECTED_ACCOUNTS)
        ]
        sellers = [  # every fourth a Standard account, which the platform does not control
            Account(new_id(), f"Seller {n:05d}", True, SELLER_SIZE, self.now - rng.randrange(30, 3 * 365) * 86_400, controlled=n % 4 != 0)
            for n in range(1, self.sellers + 1)
        ]
        return {a.id: a for a in (platform, *connected, *sellers)}

    def connect_account(self, name: str, size: int) -> Account:
        """An account that connects to the platform now, with a year of history of its own; the platform lists it."""
        with self._generation_lock:
            account = Account(self._new_account_id(), name, True, size, self.now)
            self.accounts[account.id] = account
            self.account_objects[account.id] = self._account_object(account)
            for dataset in self._platform_datasets():
                with dataset.lock:
                    dataset.tables["accounts"].put(self.account_objects[account.id])
                    self.connected_objects.put_into(dataset.tables, account.id)
        return account

    def _account_object(self, account: Account) -> dict[str, Any]:
        obj = account_object(self.spec, account.id, created=account.created, name=account.name, connected=account.connected, controlled=account.controlled)
        return self.connected_objects.add(obj)

    def set_access(self, account_id: str, granted: bool) -> None:
        """A connected account that disconnects from the platform (or revokes its access) keeps its data; the
        platform no longer lists it, and its requests for it are refused until it grants access again."""
        if account_id not in self.accounts or not self.accounts[account_id].connected:
            raise ValueError(f"no connected account {account_id}")
        with self._generation_lock:
            (self.revoked_accounts.discard if granted else self.revoked_accounts.add)(account_id)
            for dataset in self._platform_datasets():
                with dataset.lock:
                    listed = dataset.tables["accounts"]
                    if granted:
                        listed.put(self.account_objects[account_id])
                    elif account_id in listed.objects:
                        listed.remove(account_id)
                        listed.deleted.pop(account_id)  # not deleted: the platform just no longer sees it

    def uses_issuing(self, account_id: str) -> bool:
        return not self.accounts[account_id].connected and self.knobs.issuing

    def _connected_now(self) -> list[Account]:
        return [a for a in self.accounts.values() if a.connected and a.id not in self.revoked_accounts]

    def _platform_datasets(self) -> list[Dataset]:
        return [dataset for (account, _), dataset in self._datasets.items() if not self.accounts[account].connected]

    def dataset(self, account_id: str, mode: str) -> Dataset:
        """The dataset for an account and mode, generated on first use (live data is rarely needed)."""
        found = self._datasets.get((account_id, mode))
        if found is not None:
            return found
        with self._generation_lock:
            return self._generated(account_id, mode)

    def _generated(self, account_id: str, mode: str) -> Dataset:
        key = (account_id, mode)
        if key in self._datasets:
            return self._datasets[key]
        account = self.accounts[account_id]
        # The platform transfers to its connected accounts and takes fees on the larger ones' charges.
        fee_payers = {} if account.connected else {a.id: self._generated(a.id, mode) for a in self._fee_payers()}
        oldest_event = self.started_at - EVENT_WINDOW
        generator = Generator(
            self.spec, seed=self.seed, size=account.size, mode=mode, account_id=account_id, now=self.started_at,
            connected=() if account.connected else tuple(a.id for a in self._connected_now()),
            issuing=not account.connected,
            connected_charges={
                payer: [c for c in dataset.tables["charges"].newest_first() if c["created"] < oldest_event]
                for payer, dataset in fee_payers.items()
            },
        )  # fmt: skip
        delay = lambda: self.knobs.event_delay_seconds  # noqa: E731 - the knob may change at any time
        generated = generator.run()
        dataset = Dataset(account_id, mode, generated, generator.factory, delay)
        dataset.advance(self.now)  # generated as of started_at; the clock may have moved since
        for payer, charge_id, fee_id, amount in generated.fees_taken:
            charges = fee_payers[payer].tables["charges"].objects
            # Made with the fee, as the charge always was: no new version, and no event of the charge is that old.
            charges[charge_id] = {**charges[charge_id], "application_fee": fee_id, "application_fee_amount": amount}
        if not account.connected:
            for connected in self._connected_now():
                dataset.tables["accounts"].put(self.account_objects[connected.id])
            for connected in self.accounts.values():  # those that left too: Stripe keeps them with the account
                self.connected_objects.put_into(dataset.tables, connected.id)
        self._datasets[key] = dataset
        return dataset

    def take_fee(self, mode: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A charge on a connected account (`account`, or the first larger one) of which the platform takes a share
        as its application fee: the charge names the fee, and the fee the charge, from the start."""
        fields = dict(fields)
        payer = fields.pop("account", None) or self._fee_payers()[0].id
        platform = self.dataset(self.platform.id, mode)
        fee_id = platform.factory.new_id("application_fee")
        amount = int(fields.pop("amount", 10_000))
        fee_amount = round(amount * FEE_SHARE)
        made = {"amount": amount, "amount_captured": amount, "application_fee": fee_id, "application_fee_amount": fee_amount}
        charge = self.dataset(payer, mode).create("charges", {**made, "created": fields.get("created", self.now)}, self.now)
        return platform.create("application_fees", {**fields, "id": fee_id, "charge": charge, "account": payer}, self.now)

    def _fee_payers(self) -> list[Account]:
        return [a for a in self._connected_now() if a.name in CONNECTED_ACCOUNTS]

    def set_clock(self, now: int) -> int:
        with self._clock_lock:
            if now < self.now:
                raise ValueError(f"the clock only moves forward (it is {self.now}, asked for {now})")
            self.now = int(now)
            for dataset in list(self._datasets.values()):
                dataset.advance(self.now)
            return self.now

    def truth(self, account_id: str, mode: str) -> dict[str, list[dict[str, Any]]]:
        dataset = self.dataset(account_id, mode)
        with dataset.lock:
            result = {name: dataset.tables[name].newest_first() for name in TABLES}
            # What /v1/events lists now: the last 30 days, without the events not listed yet.
            oldest = self.now - EVENT_WINDOW
            result["events"] = [e for e in result["events"] if e["created"] >= oldest and dataset.events.is_listed(e, self.now)]
        if not self.knobs.orders_api:
            result["order_returns"] = []
        return result

    def deleted(self, account_id: str, mode: str) -> dict[str, list[str]]:
        dataset = self.dataset(account_id, mode)
        with dataset.lock:
            return {name: sorted(dataset.tables[name].deleted) for name in TABLES}

    def versions(self, account_id: str, mode: str) -> dict[str, dict[str, int]]:
        dataset = self.dataset(account_id, mode)
        with dataset.lock:
            return {name: dict(dataset.tables[name].versions) for name in TABLES}

    def info(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "size": self.size,
            "sellers": self.sellers,
            "now": self.now,
            "api_version": self.spec.api_version,
            "platform_account": self.platform.id,
            "connected_accounts": [a.id for a in self._connected_now()],
            "revoked_accounts": sorted(self.revoked_accounts),
            "keys": self.keys.describe(),
        }
