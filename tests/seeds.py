"""A tiny seed holding both CRMs, for tests that need a record or two of each."""

SEED = {
    "hubspot": {
        "portal_id": 62515,
        "deals": [{"id": "18462730011", "properties": {
            "dealname": "Globex renewal", "amount": "24000", "pipeline": "default",
            "dealstage": "contractsent", "createdate": "2026-09-01T10:00:00Z"},
            "history": {"dealstage": [
                {"value": "appointmentscheduled", "timestamp": "2026-09-01T10:00:00Z"},
                {"value": "contractsent", "timestamp": "2026-10-05T12:00:00Z"}]}}],
        "contacts": [{"id": "151", "properties": {
            "email": "ana@globex.example", "jobtitle": "VP Operations",
            "lifecyclestage": "salesqualifiedlead", "createdate": "2026-08-11T08:00:00Z"}}],
    },
    "salesforce": {
        "opportunities": [{"Name": "Acme - Platform", "Amount": 180000, "StageName": "Prospecting",
                           "CloseDate": "2026-12-15", "CreatedDate": "2026-08-01T09:00:00Z"}],
    },
}
