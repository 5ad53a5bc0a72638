"""The Salesforce connector: pull, stages, provisioning and write-back over simple-salesforce."""
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.spec import SPEC

__all__ = ["SPEC", "SalesforceConnector"]
