"""Suite-wide fixtures. Each area keeps its fixtures in a plugin module of its own."""
pytest_plugins = [
    "tests.fixtures_salesforce",
    "tests.fixtures_hubspot",
    "tests.fixtures_store",
    "tests.fixtures_service",
    "tests.fixtures_queue",
    "tests.fixtures_sync",
]
