"""JSON documents stored deflated against a preset dictionary: a stored record's snapshot, state
and CRM values shrink to about a sixth of their JSON.

A record's documents are small (a few hundred bytes to a few KB) and mostly the same keys and
values as every other record's, which plain compression cannot exploit inside one small document;
deflate with a preset dictionary of those common parts can. The stored value is one format byte
followed by raw deflate data. A dictionary never changes once released: a better one gets the next
format byte, and values of every released format stay readable.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

#: The common parts of stored documents (Salesforce and HubSpot records, journey states, write-back
#: values), compact JSON as :func:`pack` writes it. Deflate prefers the dictionary's end: the most
#: common parts come last. Format 1; never edit it (see the module docstring).
_DICTIONARY_1 = (
    '"hs_v2_date_entered_appointmentscheduled":"","hs_v2_date_entered_qualifiedtobuy":"",'
    '"hs_v2_date_entered_presentationscheduled":"","hs_v2_date_entered_decisionmakerboughtin":"",'
    '"hs_v2_date_entered_contractsent":"","hs_v2_date_entered_closedwon":"",'
    '"hs_v2_date_entered_closedlost":"","hs_v2_date_entered_subscriber":"",'
    '"hs_v2_date_entered_lead":"","hs_v2_date_entered_marketingqualifiedlead":"",'
    '"hs_v2_date_entered_salesqualifiedlead":"","hs_v2_date_entered_opportunity":"",'
    '"hs_v2_date_entered_customer":"","hs_v2_date_exited_":"",'
    '{"crm":"hubspot","object":"contact","id":"","stage_value":"lead","created_at":"",'
    '"modified_at":"","stage_object":null,"pipeline":null,"name":"","history":[],'
    '"fields":{"amount":null,"industry":null,"employee_count":null,"job_title":null,'
    '"lead_source":null,"country":null,"owner_id":null,"company":null},"raw":{"email":"",'
    '"firstname":"","lastname":"","company":"","lifecyclestage":"","hubspot_owner_id":"",'
    '"hs_analytics_source":"","jobtitle":"","country":"","industry":"","numemployees":"",'
    '"createdate":"","hs_object_id":"","salesforcecontactid":"","salesforceleadid":""},'
    '"url":"https://app.hubspot.com/contacts/","identity":{"kind":"person","email":"",'
    '"same_as":[["salesforce","contact",""]]}}'
    '{"crm":"hubspot","object":"deal","id":"","stage_value":"appointmentscheduled",'
    '"raw":{"dealname":"","dealstage":"","pipeline":"default","amount":"","closedate":"",'
    '"createdate":"","hs_object_id":"","hubspot_owner_id":"","hs_analytics_source":"",'
    '"hs_salesforceopportunityid":""},"url":"https://app.hubspot.com/contacts//record/0-3/",'
    '"identity":{"kind":"deal","email":null,"same_as":[]}}'
    '{"crm":"salesforce","object":"lead","id":"00Q","stage_value":"Open - Not Contacted",'
    '"raw":{"Id":"00Q","Name":"","Email":"","Status":"Working - Contacted","IsConverted":false,'
    '"Title":"","Company":"","LeadSource":"Web","Country":"","Industry":"","NumberOfEmployees":,'
    '"OwnerId":"005","CreatedDate":""},"identity":{"kind":"person","email":"","same_as":[]}}'
    '{"crm":"salesforce","object":"contact","id":"003","stage_object":"opportunity",'
    '"raw":{"Id":"003","Name":"","Email":"","Title":"","LeadSource":"","MailingCountry":"",'
    '"OwnerId":"005","AccountId":"001","Account.Name":"","Account.Industry":"",'
    '"Account.NumberOfEmployees":,"Account.BillingCountry":"","CreatedDate":""}}'
    '{"crm":"salesforce","object":"opportunity","id":"006","stage_value":"Prospecting",'
    '"created_at":"2026-01-01T00:00:00+00:00","modified_at":"2026-01-01T00:00:00+00:00",'
    '"stage_object":null,"pipeline":null,"name":" - Platform","history":['
    '{"value":"Prospecting","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Qualification","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Needs Analysis","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Value Proposition","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Id. Decision Makers","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Perception Analysis","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Proposal/Price Quote","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Negotiation/Review","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Closed Won","entered_at":"2026-01-01T00:00:00+00:00"},'
    '{"value":"Closed Lost","entered_at":"2026-01-01T00:00:00+00:00"}],'
    '"stage_entered_at":"2026-01-01T00:00:00+00:00","fields":{"amount":.0,"industry":"",'
    '"employee_count":,"job_title":null,"lead_source":"","country":null,"owner_id":"005",'
    '"company":""},"raw":{"Id":"006","Name":" - Platform","StageName":"","Amount":.0,'
    '"Type":"New Customer","LeadSource":"","OwnerId":"005","CloseDate":"2026-01-01",'
    '"Probability":.0,"IsClosed":false,"IsWon":false,"CreatedDate":"2026-01-01T00:00:00.000+0000",'
    '"LastStageChangeDate":"2026-01-01T00:00:00.000+0000","AccountId":"001","Account.Name":"",'
    '"Account.Industry":"","Account.NumberOfEmployees":},"writeback":{"journey_stage":null,'
    '"persona":null,"next_best_action":null,"stalled":false,"stage_entered_at":null,'
    '"stalls_at":null,"journey_updated_at":null},"url":"https:///lightning/r/Opportunity//view",'
    '"identity":{"kind":"deal","email":null,"same_as":[]}}'
    '{"$datetime":"2026-01-01T00:00:00+00:00"}'
    '{"crm":"salesforce","object":"opportunity","id":"006","crm_stage":"","pipeline":null,'
    '"stage":"awareness","stage_label":"Awareness","is_exit":false,"stage_index":0,'
    '"entered_at":"2026-01-01T00:00:00+00:00","entered_at_source":"history","days_in_stage":,'
    '"expected_days":,"stalled":false,"days_over":0,"persona":"general","persona_label":"General",'
    '"next_best_action":"","unmapped":false}'
    '{"journey_stage":"consideration","persona":"enterprise_buyer","next_best_action":"",'
    '"stalled":true,"stage_entered_at":"2026-01-01T00:00:00+00:00",'
    '"stalls_at":"2026-01-01T00:00:00+00:00","journey_updated_at":"2026-01-01T00:00:00.000000+00:00"}'
).encode()

_DICTIONARIES = {1: _DICTIONARY_1}
#: The format :func:`pack` writes.
FORMAT = 1
#: Raw deflate (no zlib header or checksum: the database keeps the bytes intact).
_WBITS = -15


def pack(document: Any) -> bytes:
    """``document`` as compact JSON, deflated against the current dictionary, after its format byte."""
    packer = zlib.compressobj(6, zlib.DEFLATED, _WBITS, zdict=_DICTIONARIES[FORMAT])
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return bytes((FORMAT,)) + packer.compress(text) + packer.flush()


def unpack(data: bytes) -> Any:
    """The document that :func:`pack` stored, in whichever released format it was written."""
    data = bytes(data)
    dictionary = _DICTIONARIES.get(data[0]) if data else None
    if dictionary is None:
        raise ValueError(f"not a packed document (format byte {data[:1]!r})")
    unpacker = zlib.decompressobj(_WBITS, zdict=dictionary)
    return json.loads(unpacker.decompress(data[1:]) + unpacker.flush())


class PackedJSON(TypeDecorator):
    """A JSON document column stored packed (see the module docstring); reads give the document."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        return None if value is None else pack(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else unpack(value)
