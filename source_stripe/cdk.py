"""Every use of airbyte-cdk beyond the interface its sources are meant to use, in one place. Each has a test in
unit_tests/test_cdk.py, so an upgrade that moves one fails there rather than in a user's sync."""

from queue import Queue
from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import AirbyteStateMessage
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.models import declarative_component_schema
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver
from airbyte_cdk.sources.message import MessageRepository


def resolve_references(manifest: Mapping[str, Any]) -> Dict[str, Any]:
    """The manifest with its "#/…" references replaced by what they point to, as the CDK reads it."""
    return ManifestReferenceResolver().preprocess_manifest(manifest)


def build_component(source: ConcurrentDeclarativeSource, definition: Mapping[str, Any], config: Mapping[str, Any], parameters: Optional[Mapping[str, Any]] = None) -> Any:
    """The component a manifest definition describes (its `type` names the model), built by the source's own factory
    with `parameters` handed down to it and its parts as the CDK does for a stream's."""
    parameters = dict(parameters or {})
    component = ManifestComponentTransformer().propagate_types_and_parameters("", {**definition, "$parameters": parameters}, {})
    model = getattr(declarative_component_schema, component["type"])
    return source._constructor.create_component(model, component, config, **({"name": parameters["name"]} if "name" in parameters else {}))


def normalized_config(source: ConcurrentDeclarativeSource) -> Optional[Mapping[str, Any]]:
    """The config the source was given, after the manifest's config_normalization_rules (None: it was given none)."""
    return source._config


def state_manager(source: ConcurrentDeclarativeSource) -> ConnectorStateManager:
    """The state the CDK's read loop saves and the streams' cursors update."""
    return source._connector_state_manager


def replace_state(source: ConcurrentDeclarativeSource, state: List[AirbyteStateMessage]) -> None:
    """The CDK reads state given to the source's constructor; state handed to read() alone must count too."""
    source._connector_state_manager = ConnectorStateManager(state=state)


def message_repository(source: ConcurrentDeclarativeSource) -> MessageRepository:
    """Where the CDK's read loop takes the messages that streams emit besides records (state, logs)."""
    return source._message_repository


def read_loop_queue(source: ConcurrentDeclarativeSource) -> Queue:
    """The queue the CDK's read loop waits on, on the main thread: a message put there by any thread comes out of the
    source's read() as soon as the loop gets to it, even while no partition sends anything. Put there directly rather
    than through the message repository, whose in-memory buffer two threads emitting at once can fail on (each checks
    it is not empty, then both take its one message)."""
    return source._concurrent_source._queue


def flush_printed() -> None:
    """Sends on the lines the CDK's print buffer holds. The entrypoint prints every message into it, and it writes out
    only when written to at least 0.1 s after its last flush: the end of a burst of lines waits for the next line,
    which may be a whole progress interval away when nothing else flows."""
    PRINT_BUFFER.flush()
