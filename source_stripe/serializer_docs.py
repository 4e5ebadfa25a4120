"""airbyte_cdk builds its protocol serializers when it is first imported, and serpyco_rs, writing each protocol model's
JSON schema, reads the model's source code for its attributes' docs: 0.4 of the 1.1 CPU-seconds that every spec,
check, discover and read spent starting up. Nothing reads those schemas' descriptions; what the serializers write is
the same without them."""

from typing import Any, Dict


def _no_docs(cls: Any) -> Dict[str, str]:
    return {}


def skip_serializer_attribute_docs() -> None:
    try:
        from serpyco_rs import _describe
        from serpyco_rs._json_schema import _convert
    except ImportError:  # a serpyco_rs laid out otherwise: starting up costs what it did, nothing else changes
        return
    _describe.get_attributes_doc = _convert.get_attributes_doc = _no_docs
