import json
import logging
from pathlib import Path
from typing import Any, Callable, Iterator, List, Mapping, Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.utils import AirbyteTracedException

from source_stripe.check import ConnectionCheck
from source_stripe.config import InvalidConfig, validate_config
from source_stripe.cdk import build_component, message_repository, replace_state, state_manager
from source_stripe.incremental import change_capture_streams
from source_stripe.transport import RequestBudget, StripeConnection, requests_per_second

MANIFEST = Path(__file__).with_name("manifest.yaml")
_CDK_SUMMARY = "During the sync, the following streams did not sync successfully:"


class SourceStripe(YamlDeclarativeSource):
    # Checked by validate_config instead, whose messages name the field.
    check_config_against_spec = False

    def __init__(
        self,
        config: Optional[Mapping[str, Any]] = None,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        super().__init__(str(MANIFEST), config=config, catalog=catalog, state=state, config_path=config_path)
        self._selected_streams, self._incremental_streams = _selected_streams_of(catalog), _incremental_streams_of(catalog)

    @classmethod
    def from_args(cls, args: List[str]) -> "SourceStripe":
        """Builds the source from the files named on the command line, as the Airbyte platform invokes it."""
        config_path = AirbyteEntrypoint.extract_config(args)
        catalog_path = AirbyteEntrypoint.extract_catalog(args)
        state_path = AirbyteEntrypoint.extract_state(args)
        return cls(
            config=_read_input("config", config_path, cls.read_config),
            catalog=_read_input("catalog", catalog_path, cls.read_catalog),
            state=_read_input("state", state_path, cls.read_state),
            config_path=config_path,
        )

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        """The config, not copied into a temporary file as the CDK would: nothing reads that copy, and a sync killed
        before cleaning up would leave the key behind in it."""
        return self._config or config

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        config = self._config or config
        try:
            self._validate(logger, config)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        return ConnectionCheck(self.resolved_manifest, config, logger).run()

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        self._validate(logger, self._config or config)
        return super().discover(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        self._validate(logger, self._config or config)
        tables = {entry["$parameters"]["name"] for entry in self.resolved_manifest["streams"]}
        unknown = sorted({stream.stream.name for stream in catalog.streams} - tables)
        if unknown:
            raise InvalidConfig(
                f"The catalog selects tables this connector does not have: {', '.join(unknown)}. Refresh the source's "
                "schema and select among its tables."
            )
        self._selected_streams, self._incremental_streams = _selected_streams_of(catalog), _incremental_streams_of(catalog)
        if state:
            # The CDK reads state given to the constructor; callers that hand it to read() alone must count too.
            replace_state(self, state)
            _warn_about_unknown_streams(state, tables, logger)
        errors_said = set()
        try:
            for message in super().read(logger, config, catalog, state):
                error = _error_of(message)  # once per message: records pass with this one check
                if error is not None:
                    if error.message in errors_said:
                        continue  # a revoked key fails every table alike; the closing error names them all
                    errors_said.add(error.message)
                yield message
        except AirbyteTracedException as error:
            selected = [stream.stream.name for stream in catalog.streams]
            failed = _streams_named_in_the_cdks_summary(error, selected)
            if not failed:
                raise
            others = " The other tables were synced." if len(failed) < len(selected) else ""
            raise AirbyteTracedException(
                message=(
                    f"The sync did not finish: {_and_join(failed)} could not be read; the errors before this one say "
                    f"why and what to do.{others}"
                ),
                internal_message=error.message,
                failure_type=error.failure_type,
            ) from error

    def _validate(self, logger: logging.Logger, config: Mapping[str, Any]) -> None:
        validate_config(config, self.spec(logger).connectionSpecification)

    def streams(self, config: Mapping[str, Any]) -> List[AbstractStream]:  # type: ignore[override]
        config = self._config or config
        manifest = self.resolved_manifest
        build = lambda definition, parameters: build_component(self, definition, config, parameters)  # noqa: E731
        requests_in_flight = build(manifest["concurrency_level"], {}).get_concurrency_level()
        requester = manifest["definitions"]["requester"]
        # The CDK's workers and as many fetching child tables' requests each hold a connection.
        connection = StripeConnection(
            build(requester, {"name": "requests"}), requester, config, RequestBudget(requests_per_second(config)), 2 * requests_in_flight
        )
        return change_capture_streams(
            manifest,
            config,
            build,
            connection,
            self._selected_streams,
            self._incremental_streams,
            state_manager(self),
            message_repository(self),
            requests_in_flight,
        )


def _read_input(kind: str, path: Optional[str], reader: Callable[[str], Any]) -> Any:
    """The content of a --config, --catalog or --state file, or one sentence on why it cannot be used (never quoting
    the file, which for a config holds the key)."""
    if not path:
        return None
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise InvalidConfig(f"The {kind} file {path} cannot be read: {error.strerror}.")
    if not text.strip():
        raise InvalidConfig(f"The {kind} file {path} is empty; it must hold the {kind} as JSON.")
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidConfig(f"The {kind} file {path} is not JSON: {error.msg} at line {error.lineno}, column {error.colno}.")
    try:
        return reader(path)
    except ValueError as error:
        detail = "it is not a JSON object" if kind == "config" else str(error).replace("Schema validation failed:", "").strip(" \n-")
        raise InvalidConfig(f"The {kind} file {path} is not a valid Airbyte {kind}: {detail}.")


def _warn_about_unknown_streams(state: List[AirbyteStateMessage], known: set, logger: logging.Logger) -> None:
    for message in state:
        stream = getattr(message, "stream", None)
        name = stream.stream_descriptor.name if stream else None
        if name and name not in known:
            logger.warning(f"The saved state names a table this connector does not have, {name!r}; it is ignored.")


def _streams_named_in_the_cdks_summary(error: AirbyteTracedException, streams: List[str]) -> List[str]:
    """The CDK ends a sync in which tables failed with one error repeating each table's exception, a wall of text;
    the tables it names, or none for any other error."""
    summary = error.message or ""
    if error.internal_message != "Concurrent read failure" or not summary.startswith(_CDK_SUMMARY):
        return []
    lines = summary[len(_CDK_SUMMARY) :].split("\n")
    return [stream for stream in streams if any(line.strip().startswith(f"{stream}: ") for line in lines)]


def _error_of(message: AirbyteMessage) -> Any:
    return message.trace.error if message.type == Type.TRACE and message.trace else None


def _and_join(names: List[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _selected_streams_of(catalog: Optional[ConfiguredAirbyteCatalog]) -> set:
    return {stream.stream.name for stream in catalog.streams} if catalog else set()


def _incremental_streams_of(catalog: Optional[ConfiguredAirbyteCatalog]) -> set:
    if not catalog:
        return set()
    return {stream.stream.name for stream in catalog.streams if stream.sync_mode == SyncMode.incremental}
