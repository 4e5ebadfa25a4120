"""The sandbox's own control API under /_sandbox/: change data, move the clock, read the truth.

No auth and no faults apply here: tests use it to arrange a scenario and to check what a connector
read against what the sandbox holds.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from .spec import TABLES
from .state import SandboxState
from .store import AdminError


def _one(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    return query.get(name, [default])[-1]


class AdminApi:
    def __init__(self, state: SandboxState):
        self.state = state

    def handle(self, method: str, path: str, raw_query: str, body: bytes) -> tuple[int, Any]:
        try:
            payload = json.loads(body) if body.strip() else {}
            if not isinstance(payload, dict):
                raise AdminError(400, "the request body must be a JSON object")
            return 200, self._route(method, path.rstrip("/").split("/")[2:], parse_qs(raw_query), payload)
        except json.JSONDecodeError as error:
            return 400, {"error": {"message": f"invalid JSON body: {error}"}}
        except AdminError as error:
            return error.status, {"error": {"message": str(error)}}
        except (ValueError, TypeError, KeyError) as error:
            return 400, {"error": {"message": str(error)}}

    def _dataset(self, query: dict[str, list[str]]):
        mode = _one(query, "mode", "test")
        account = _one(query, "account") or self.state.platform.id
        if mode not in ("live", "test"):
            raise AdminError(400, "mode is live or test")
        if account not in self.state.accounts:
            raise AdminError(404, f"no such account: {account}")
        return account, mode

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]], payload: dict[str, Any]) -> Any:
        state = self.state
        match method, parts:
            case "GET", ["info"]:
                return state.info()
            case "GET", ["clock"]:
                return {"now": state.now}
            case "POST", ["clock"]:
                if "now" in payload:
                    return {"now": state.set_clock(int(payload["now"]))}
                return {"now": state.set_clock(state.now + int(payload.get("advance_seconds", 0)))}
            case "POST", ["objects", "application_fees"]:
                # A fee is taken on a connected account's charge, which the fee's own dataset does not hold.
                account, mode = self._dataset(query)
                if account != state.platform.id:
                    raise AdminError(400, "Only the platform takes application fees")
                return state.take_fee(mode, payload)
            case "POST", ["objects", table]:
                account, mode = self._dataset(query)
                return state.dataset(account, mode).create(self._table(table), payload, state.now)
            case "POST", ["objects", table, object_id]:
                account, mode = self._dataset(query)
                return state.dataset(account, mode).update(self._table(table), object_id, payload, state.now)
            case "DELETE", ["objects", table, object_id]:
                account, mode = self._dataset(query)
                return state.dataset(account, mode).delete(self._table(table), object_id, state.now)
            case "GET", ["truth"]:
                return state.truth(*self._dataset(query))
            case "GET", ["truth", "deleted"]:
                return state.deleted(*self._dataset(query))
            case "GET", ["truth", "versions"]:
                return state.versions(*self._dataset(query))
            case "GET", ["stats"]:
                return state.stats.describe()
            case "POST", ["stats", "reset"]:
                state.stats.reset()
                return state.stats.describe()
            case "GET", ["knobs"]:
                return state.faults.describe()
            case "POST", ["knobs"]:
                storm = payload.pop("storm_seconds", None)
                state.knobs.update(payload)
                if storm is not None:
                    state.faults.start_storm(float(storm))
                return state.faults.describe()
            case "POST", ["accounts"]:
                account = state.connect_account(str(payload["name"]), int(payload.get("size", 30)))
                return {"id": account.id}
            case "POST", ["accounts", account_id]:
                try:
                    state.set_access(account_id, bool(payload["access"]))
                except ValueError as error:
                    raise AdminError(404, str(error))
                return state.info()
            case "GET", ["keys"]:
                return state.keys.describe()
            case "POST", ["keys"]:
                return self._keys(payload)
        raise AdminError(404, f"no admin route {method} /_sandbox/{'/'.join(parts)}")

    def _table(self, name: str) -> str:
        if name not in TABLES:
            raise AdminError(404, f"unknown table {name!r}; tables are {', '.join(TABLES)}")
        return name

    def _keys(self, payload: dict[str, Any]) -> Any:
        keys = self.state.keys
        if payload.get("reset"):
            keys.reset()
            return keys.describe()
        key = payload["key"]
        if "tables" in payload:
            keys.set_grants(key, list(payload["tables"]))
        if "revoked" in payload:
            keys.set_revoked(key, bool(payload["revoked"]))
        return keys.describe()
