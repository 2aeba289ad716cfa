"""How spyne's reading of an envelope is made cheaper (soap.Soap11.create_in_document): the elements found by their
id attribute, which SOAP-encoded href references name, are those etree.XMLID finds."""

from __future__ import annotations

import pytest
from lxml import etree

from xweb_emulator.soap import _ids

ENVELOPE = ('<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:x"><e:Body>'
            '<a href="#r1"/>{referred}</e:Body></e:Envelope>')


@pytest.mark.parametrize("referred", [
    '<b id="r1">x</b><c id="r2"><d id="r3"/></c>',
    '<b id="r1"/><c id="r1"/>',  # the last of those sharing an id
    '<b id="">x</b><c x:id="r2"/><d xml:id="r3"/><e ID="r4"/>',  # empty, or no plain id attribute: none found
    "<b>id=</b>",
    "",
])
def test_the_elements_found_by_their_id_are_those_xmlid_finds(referred):
    document = ENVELOPE.format(referred=referred).encode()
    _root, expected = etree.XMLID(document)

    found = _ids(etree.XML(document))

    assert list(found) == list(expected)
    assert all(etree.tostring(found[key]) == etree.tostring(expected[key]) for key in found)
