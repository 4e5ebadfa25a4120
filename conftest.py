pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]
