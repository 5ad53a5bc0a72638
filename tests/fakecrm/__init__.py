"""A small fake CRM plug-in living in the tests package: proof that adding a CRM needs a new folder and one registry call, no service edits."""
