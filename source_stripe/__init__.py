from source_stripe.serializer_docs import skip_serializer_attribute_docs

skip_serializer_attribute_docs()  # before anything imports airbyte_cdk, whose import builds the serializers

from source_stripe.source import SourceStripe  # noqa: E402

__all__ = ["SourceStripe"]
