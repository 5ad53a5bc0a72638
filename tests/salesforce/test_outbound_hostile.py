"""Hostile outbound messages are refused with a reason, whatever their encoding: entity bombs and
external entities (defusedxml), more notifications than Salesforce sends, ids that are not ids."""
from __future__ import annotations

import pytest

from connectors.salesforce.outbound import MAX_NOTIFICATIONS, parse_outbound_message
from tests.salesforce.test_outbound import ENVELOPE

BOMB = ('<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
                  for n in range(1, 10))
        + ']><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">&lol9;'
          "</soapenv:Envelope>")
XXE = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">&xxe;</soapenv:Envelope>')
NOTE = (b'<Notification><Id>04l1</Id><sObject xsi:type="sf:Opportunity" '
        b'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>0065g00000XyZ01AAF</sf:Id></sObject>'
        b"</Notification>")


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "ISO-8859-1"])
def test_an_entity_bomb_is_refused_in_any_encoding(encoding):
    with pytest.raises(ValueError, match="DTDs and entity declarations are not allowed"):
        parse_outbound_message(BOMB.format(encoding=encoding).encode(encoding))


def test_an_encoding_the_parser_does_not_know_is_a_refusal_not_a_crash():
    with pytest.raises(ValueError):
        parse_outbound_message(BOMB.format(encoding="UTF-16-LE").encode("utf-16le"))


def test_an_external_entity_is_refused():
    with pytest.raises(ValueError, match="DTDs and entity declarations are not allowed"):
        parse_outbound_message(XXE.encode())


def test_a_message_in_utf16_is_read():
    body = ENVELOPE.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert parse_outbound_message(body)[0] == "00D5g000004ExAmEAC"


def test_more_notifications_than_salesforce_sends_are_refused():
    start = ENVELOPE.index(b"<Notification>")
    end = ENVELOPE.rindex(b"</Notification>") + len(b"</Notification>")
    many = ENVELOPE[:start] + NOTE * (MAX_NOTIFICATIONS + 1) + ENVELOPE[end:]
    with pytest.raises(ValueError, match="holds 101 notifications; Salesforce sends at most 100"):
        parse_outbound_message(many)
    assert len(parse_outbound_message(ENVELOPE[:start] + NOTE * MAX_NOTIFICATIONS + ENVELOPE[end:])[1]) == 100


@pytest.mark.parametrize("bad_id", ["0065g00000XyZ01\x00AF", "../../etc", "x" * 500, "0065g00000XyZ01A"])
def test_ids_that_are_not_salesforce_ids_are_refused(bad_id):
    body = ENVELOPE.replace(b"0065g00000XyZ01AAF", bad_id.encode())
    with pytest.raises(ValueError):
        parse_outbound_message(body)
