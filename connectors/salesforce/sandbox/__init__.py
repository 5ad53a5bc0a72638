"""A local Salesforce that speaks the REST, Tooling and OAuth wire protocols (see README.md)."""
from connectors.salesforce.sandbox.server import SalesforceSandbox

__all__ = ["SalesforceSandbox"]
