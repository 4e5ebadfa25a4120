import logging
from pathlib import Path
from typing import Any, Iterator, List, Mapping, Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils import AirbyteTracedException

from source_stripe.check import ConnectionCheck
from source_stripe.config import validate_config

MANIFEST = Path(__file__).with_name("manifest.yaml")


class SourceStripe(YamlDeclarativeSource):
    def __init__(
        self,
        config: Optional[Mapping[str, Any]] = None,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        super().__init__(str(MANIFEST), config=config, catalog=catalog, state=state, config_path=config_path)

    @classmethod
    def from_args(cls, args: List[str]) -> "SourceStripe":
        """Builds the source from the files named on the command line, as the Airbyte platform invokes it."""
        config_path = AirbyteEntrypoint.extract_config(args)
        catalog_path = AirbyteEntrypoint.extract_catalog(args)
        state_path = AirbyteEntrypoint.extract_state(args)
        return cls(
            config=cls.read_config(config_path) if config_path else None,
            catalog=cls.read_catalog(catalog_path) if catalog_path else None,
            state=cls.read_state(state_path) if state_path else None,
            config_path=config_path,
        )

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        config = self._config or config
        try:
            validate_config(config)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        return ConnectionCheck(self.resolved_manifest, config, logger).run()

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        validate_config(self._config or config)
        return super().discover(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        validate_config(self._config or config)
        yield from super().read(logger, config, catalog, state)
