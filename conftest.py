# Imported before the plugin below imports airbyte_cdk, so each pytest worker, too, starts without reading the
# serializers' source code (source_stripe/serializer_docs.py).
import source_stripe  # noqa: F401

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]
