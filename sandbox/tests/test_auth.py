"""API keys, restricted-key permissions, live/test datasets and connected accounts."""

from __future__ import annotations

import base64

import pytest
from stripe_sandbox import keys
from stripe_sandbox.access import CONNECTED_ACCOUNTS_TABLE


def test_keys_look_like_stripe_keys():
    for name, key in keys.KEYS.items():
        prefix = {
            "secret_live": "sk_live_",
            "secret_test": "sk_test_",
            "restricted_live": "rk_live_",
            "restricted_test": "rk_test_",
        }[name]
        assert key.startswith(prefix) and len(key) >= len(prefix) + 24 and key[len(prefix) :].isalnum()


def test_missing_key_is_a_401(api):
    error = api.using(key=None).error("/v1/customers", 401)
    assert error["message"].startswith("You did not provide an API key.")


def test_wrong_key_is_a_401_with_the_key_masked(api):
    error = api.using(key="sk_test_51NotARealKeyAtAll001234").error("/v1/customers", 401)
    assert error == {
        "type": "invalid_request_error",
        "message": "Invalid API Key provided: sk_test_********************1234",
    }


def test_basic_auth_with_the_key_as_username_works(shared, api):
    token = base64.b64encode(f"{keys.SECRET_TEST}:".encode()).decode()
    response = api.session.get(f"{shared.url}/v1/customers", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


def test_revoked_key_is_refused(sandbox, client):
    assert client.get("/v1/customers").status_code == 200
    sandbox.revoke_key(keys.SECRET_TEST)
    assert "Invalid API Key provided" in client.error("/v1/customers", 401)["message"]
    sandbox.revoke_key(keys.SECRET_TEST, revoked=False)
    assert client.get("/v1/customers").status_code == 200


@pytest.mark.parametrize(
    ("path", "permission"),
    [
        ("/v1/customers", "rak_customer_read"),
        ("/v1/prices", "rak_plan_read"),
        ("/v1/setup_intents", "rak_setup_intent_read"),
        ("/v1/events", "rak_event_read"),
    ],
)
def test_restricted_key_without_permission_gets_403_naming_it(sandbox, client, path, permission):
    restricted = client.using(key=keys.RESTRICTED_TEST)
    assert restricted.get(path).status_code == 200, "restricted keys read everything by default"
    sandbox.set_key_permissions(keys.RESTRICTED_TEST, ["products"])
    error = restricted.error(path, 403)
    assert error["message"] == (
        f"The provided key 'rk_test_{'*' * 27}abcd' does not have the required permissions for this endpoint "
        f"on account '{sandbox.platform_account}'. Having the '{permission}' permission would allow this "
        "request to continue."
    )
    assert restricted.get("/v1/products").status_code == 200


@pytest.mark.parametrize("connected", [False, True], ids=["own_account", "connected_account"])
def test_a_restricted_key_may_never_read_the_account_whatever_it_was_granted(api, shared, connected):
    account = shared.connected_accounts[0] if connected else shared.platform_account
    restricted = api.using(key=keys.RESTRICTED_TEST, account=account if connected else None)

    error = restricted.error("/v1/account", 403)

    assert error == {
        "type": "invalid_request_error",
        "message": f"The provided key 'rk_test_{'*' * 27}abcd' does not have the required permissions for this "
        f"endpoint on account '{account}'. This is a restricted API key, but the required permissions are not "
        "available for use by restricted keys.",
    }
    assert restricted.get("/v1/customers").status_code == 200, "the same key reads the account's tables"


def test_newer_accounts_refuse_the_account_to_restricted_keys_naming_a_permission(sandbox, client):
    sandbox.set_knobs(account_403_names_permission=True)

    error = client.using(key=keys.RESTRICTED_TEST).error("/v1/account", 403)

    assert "Having the 'rak_accounts_kyc_id_numbers_read' permission would allow" in error["message"]
    assert client.get("/v1/account").status_code == 200, "a secret key reads its account"


def test_live_and_test_keys_see_separate_datasets(api, shared):
    live = api.using(key=keys.SECRET_LIVE)
    live_customers = live.all("/v1/customers")
    test_customers = api.all("/v1/customers")
    assert {c["livemode"] for c in live_customers} == {True}
    assert {c["livemode"] for c in test_customers} == {False}
    assert not {c["id"] for c in live_customers} & {c["id"] for c in test_customers}
    assert live_customers == shared.truth(mode="live")["customers"]
    assert {e["livemode"] for e in live.all("/v1/events")} == {True}


def test_stripe_account_header_selects_a_connected_account(api, shared):
    platform = api.ok("/v1/account")
    assert platform["id"] == shared.platform_account
    connected_id = shared.connected_accounts[0]
    connected = api.using(account=connected_id)
    assert connected.ok("/v1/account")["id"] == connected_id
    customers = connected.all("/v1/customers")
    assert customers == shared.truth(account=connected_id)["customers"]
    assert 0 < len(customers) < len(api.all("/v1/customers"))


def test_unknown_connected_account_is_a_403(api):
    error = api.using(account="acct_1Unknown0000000").error("/v1/customers", 403)
    assert error["code"] == "account_invalid"
    assert "does not have access to account 'acct_1Unknown0000000'" in error["message"]


def test_a_connected_account_that_disconnects_refuses_the_platform_until_it_grants_access_again(sandbox, client):
    connected = client.using(account=sandbox.connected_accounts[0])
    customers = connected.all("/v1/customers")

    sandbox.set_account_access(sandbox.connected_accounts[0], False)
    disconnected = sandbox.info()["revoked_accounts"][0]

    error = client.using(account=disconnected).error("/v1/customers", 403)
    assert error["code"] == "account_invalid"
    assert disconnected not in sandbox.connected_accounts
    sandbox.set_account_access(disconnected, True)
    assert client.using(account=disconnected).all("/v1/customers") == customers, "its data stayed"


def test_an_account_that_connects_later_brings_its_own_history(sandbox, client):
    new = sandbox.connect_account("Harbor Books", size=40)

    assert new in sandbox.connected_accounts
    customers = client.using(account=new).all("/v1/customers")
    assert customers and customers == sandbox.truth(account=new)["customers"]
    assert not {c["id"] for c in customers} & {c["id"] for c in client.all("/v1/customers")}


def test_the_platform_lists_the_accounts_connected_to_it_now(sandbox, client):
    first, second = sandbox.connected_accounts
    assert {a["id"] for a in client.all("/v1/accounts")} == {first, second}

    sandbox.set_account_access(second, False)
    newcomer = sandbox.connect_account("Harbor Books")

    assert {a["id"] for a in client.all("/v1/accounts")} == {first, newcomer}
    assert client.all("/v1/accounts") == sandbox.truth()[CONNECTED_ACCOUNTS_TABLE]


def test_only_a_connect_platform_may_list_connected_accounts(sandbox, client):
    refused = client.using(account=sandbox.connected_accounts[0]).error("/v1/accounts", 403)
    assert refused["message"] == "You cannot access the connected accounts of your platform's connected accounts."

    sandbox.set_knobs(connect_platform=False)
    assert client.error("/v1/accounts", 403)["message"].startswith("Only Stripe Connect platforms can work with other accounts.")


def test_a_restricted_key_without_connect_permissions_may_not_act_for_a_connected_account(sandbox, client):
    without_connect = [table for table in sandbox.info()["keys"]["restricted_test"]["tables"] if table != CONNECTED_ACCOUNTS_TABLE]
    sandbox.set_key_permissions(keys.RESTRICTED_TEST, without_connect)
    restricted = client.using(key=keys.RESTRICTED_TEST)

    error = restricted.using(account=sandbox.connected_accounts[0]).error("/v1/customers", 403)

    assert "restricted API key does not have any Connect permissions" in error["message"]
    assert restricted.get("/v1/customers").status_code == 200, "its own account it reads"
