"""Which Stripe accounts a sync reads (the config's connected_accounts), the account each record comes from, and an
account whose access ends mid-sync: one warning, and its positions stay where they were."""

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Set

import requests

from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record

from source_stripe.client import ACCOUNTS_PATH, StripeClient
from source_stripe.components import parsed_body
from source_stripe.config import connected_accounts
from source_stripe.partitions import CreatedSlice
from source_stripe.tables import TableEntry
from source_stripe.transport import StripeRefused

logger = logging.getLogger("airbyte")

ACCOUNT_FIELD = "account_id"
# Stripe refuses a restricted key GET /v1/account whatever it was granted, but its refusal names the account.
_NAMED_ACCOUNT = re.compile(r"on account '(acct_[A-Za-z0-9]+)'")


@dataclass(frozen=True)
class Account:
    id: Optional[str]  # acct_… (None: the key's own account, when Stripe did not say its id)
    header: Optional[str]  # the Stripe-Account its requests send (None: the config's account_id, or none)

    @property
    def key(self) -> str:
        """How its positions are kept in a table's state."""
        return self.id or "own"


class SyncAccounts:
    """The accounts one sync reads, found once for all tables: the key's own account (or account_id's) alone by
    default, else the accounts the config lists, or the platform's and all its connected accounts."""

    def __init__(self, client: StripeClient, config: Mapping[str, Any]) -> None:
        self._client, self._config = client, config
        self.mode, self._listed = connected_accounts(config)
        self._lock = threading.Lock()
        self._accounts: Optional[List[Account]] = None
        self._lost: Set[str] = set()

    @property
    def several(self) -> bool:
        """Whether positions are kept per account (any connected_accounts setting but none)."""
        return self.mode != "none"

    def accounts(self) -> List[Account]:
        with self._lock:
            if self._accounts is None:
                self._accounts = self._find()
            return self._accounts

    @property
    def own_key(self) -> str:
        """The state key of the account the key reads without a Stripe-Account header (or account_id's)."""
        self.accounts()
        return self._own.key

    def reading(self, table: TableEntry) -> List[Account]:
        """The accounts `table` is read on: a table only a platform lists, on the key's own account alone."""
        if table.platform_only and self.several:
            return [account for account in self.accounts() if account.header is None]
        return self.accounts()

    def _find(self) -> List[Account]:
        chosen = self._config.get("account_id")
        self._own = Account(chosen or self._own_id(), None)
        if self.mode == "none":
            return [self._own]
        listed = [self._own.id, *self._connected()] if self.mode == "all" else self._listed
        return [self._own if account == self._own.id else Account(account, account) for account in dict.fromkeys(listed)]

    def _connected(self) -> List[str]:
        """Every account connected to the platform now, as /v1/accounts lists them."""
        requests_of = self._client.lists(self._client.accounts_table)
        found: List[str] = []
        query: dict = {"limit": 100}
        while True:
            response, ignored_because = requests_of.answer(ACCOUNTS_PATH, query)
            if ignored_because:  # not a Connect platform: its own account is all there is
                return found
            page = parsed_body(response)
            found += [account["id"] for account in page["data"]]
            if not page["has_more"] or not page["data"]:
                return found
            query = {"limit": 100, "starting_after": page["data"][-1]["id"]}

    def _own_id(self) -> Optional[str]:
        try:
            response = self._client.account().get("account", {})
            return parsed_body(response).get("id")
        except StripeRefused as refused:
            if refused.status_code != 403:
                raise
            named = _NAMED_ACCOUNT.search(_error(refused.response).get("message") or "")
            if named is None:
                logger.warning("Stripe did not say which account the key belongs to, so the records' account_id is empty.")
            return named.group(1) if named else None

    def lose(self, account: Account, refused: StripeRefused) -> bool:
        """Whether Stripe's refusal means the account's access ended (it disconnected or revoked this platform); its
        tables then stop, with one warning for all of them."""
        if not self.several or refused.status_code != 403 or _error(refused.response).get("code") != "account_invalid":
            return False
        with self._lock:
            warned = account.key in self._lost
            self._lost.add(account.key)
        if not warned:
            logger.warning(
                f"The connected account {account.id} can no longer be read (Stripe: {_error(refused.response).get('message')}): it "
                "disconnected or revoked this platform's access. Its data already synced stays; it is read again "
                "from where it stopped if access returns."
            )
        return True

    def is_lost(self, account: Account) -> bool:
        return account.key in self._lost


class AccountPartition(Partition):
    """A partition of one account's read: its records say the account, and a lost account's partitions read nothing."""

    def __init__(self, partition: Partition, account: Account, accounts: SyncAccounts) -> None:
        self.partition, self.account, self._accounts = partition, account, accounts

    def read(self) -> Iterable[Record]:
        if self._accounts.is_lost(self.account):
            if isinstance(self.partition, CreatedSlice):
                self.partition.skip()
            return
        try:
            for record in self.partition.read():
                record.data[ACCOUNT_FIELD] = self.account.id
                yield record
        except StripeRefused as refused:
            if not self._accounts.lose(self.account, refused):
                raise

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return {**(self.partition.to_slice() or {}), "account": self.account.key}

    def stream_name(self) -> str:
        return self.partition.stream_name()

    def __hash__(self) -> int:
        return hash((self.account.key, hash(self.partition)))


def _error(response: Optional[requests.Response]) -> Mapping[str, Any]:
    body = parsed_body(response) if response is not None else None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}
