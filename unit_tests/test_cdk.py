"""Each airbyte-cdk internal that source_stripe/cdk.py relies on still does what the connector needs of it."""

import logging
import threading

import requests

from airbyte_cdk.models import (
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    Level,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from source_stripe import SourceStripe
from airbyte_cdk.logger import PRINT_BUFFER
from source_stripe.cdk import (
    build_component,
    flush_printed,
    message_repository,
    normalized_config,
    read_loop_queue,
    replace_state,
    resolve_references,
    state_manager,
)
from unit_tests.stripe_api import TEST_KEY, catalog, config, embedded_list, objects


def a_403_response() -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = 403, b'{"error": {"message": "missing rak_refund_read"}}'
    return response


def test_references_resolve_to_what_they_point_at():
    manifest = {"definitions": {"events": {"created": ["refund.created"]}}, "streams": [{"events": "#/definitions/events"}]}

    assert resolve_references(manifest)["streams"][0]["events"] == {"created": ["refund.created"]}


def test_a_built_error_handler_names_the_table_and_permission_it_was_built_with():
    source = SourceStripe(config=config())
    definition = source.resolved_manifest["definitions"]["error_handler"]

    handler = build_component(source, definition, config(), {"name": "refunds", "permission": "Refunds: Read"})
    resolution = handler.interpret_response(a_403_response())

    assert resolution.response_action == ResponseAction.FAIL
    assert 'The API key may not read refunds: in the Stripe dashboard, grant the key "Refunds: Read"' in resolution.error_message


def test_the_normalized_config_has_the_manifests_migrations_applied():
    source = SourceStripe(config={"client_secret": TEST_KEY})

    assert normalized_config(source) == {"api_key": TEST_KEY, "environment": "test"}


def test_replaced_state_is_what_the_state_manager_then_holds():
    source = SourceStripe(config=config())
    saved = AirbyteStateMessage(
        type=AirbyteStateType.STREAM,
        stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name="refunds"), stream_state=AirbyteStateBlob(created=1_700_000_000)),
    )

    replace_state(source, [saved])

    assert isinstance(state_manager(source), ConnectorStateManager)
    assert state_manager(source).get_stream_state("refunds", None) == {"created": 1_700_000_000}


def test_the_message_repository_is_the_one_the_read_loop_drains():
    source = SourceStripe(config=config())

    assert isinstance(message_repository(source), MessageRepository)
    assert message_repository(source) is source._constructor.get_message_repository()


def test_a_message_put_on_the_read_loops_queue_comes_out_of_the_read_while_every_request_still_waits(stripe, requests_mock):
    source = SourceStripe(config=config())
    put = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="put by another thread"))
    came_out, seen_while_waiting = threading.Event(), []

    def customers_page(request, context):
        read_loop_queue(source).put(put)
        seen_while_waiting.append(came_out.wait(timeout=30))  # the timeout only keeps a failure short
        return embedded_list(objects("customer", 1, "cus"))

    requests_mock.get(stripe.url("customers"), json=customers_page)
    for message in source.read(logging.getLogger("airbyte"), config(), catalog("customers")):
        if message is put:
            came_out.set()

    assert seen_while_waiting == [True]


def test_the_print_buffer_holds_a_line_printed_right_after_another_until_flushed(capfd):
    PRINT_BUFFER.flush()
    capfd.readouterr()  # what earlier tests left in it
    PRINT_BUFFER.last_flush_time = 0  # as long ago as the last output of a quiet sync
    PRINT_BUFFER.write("first line\n")
    PRINT_BUFFER.write("second line\n")
    held = capfd.readouterr().out

    flush_printed()

    assert held == "first line\n"
    assert capfd.readouterr().out == "second line\n"
