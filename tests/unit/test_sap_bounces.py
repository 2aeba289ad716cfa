"""SAP's bounce rule as a function (no server): what a MailSystemErrorCode, with the request's
CommunicationDataUsageDeniedIndicator, does to the campaign outbound (the table of sap/bounces.py)."""

from __future__ import annotations

import pytest

from xweb_emulator.sap.bounces import FAILED, BounceEffect, bounce_effect


@pytest.mark.parametrize(("code", "indicator", "effect"), [
    ("2.0.0", None, BounceEffect(None, None)),
    ("2.1.5", True, BounceEffect(None, None)),  # a 2.x.x code changes nothing, whatever the request says
    ("5.1.1", None, BounceEffect(True, FAILED)),  # a bad address: usage denied
    ("4.1.8", False, BounceEffect(False, FAILED)),  # the request's indicator overrules the table
    ("5.2.2", None, BounceEffect(None, FAILED)),  # a full mailbox: the address stays usable
    ("4.4.7", True, BounceEffect(True, FAILED)),
    ("5.7.1", False, BounceEffect(None, FAILED)),
    ("3.1.1", None, None),  # not a code of RFC 3463: no effect, the checks log it
    ("5.1", True, None),
])
def test_the_code_and_the_indicator_decide_the_outbounds_status(code, indicator, effect):
    assert bounce_effect(code, indicator) == effect
