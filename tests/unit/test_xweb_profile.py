"""The tenant profile's logic as functions (no server): a profile read and refused with the line at fault, one laid
over the built-in objects, and the object security its users have.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xweb_emulator.xweb.methods import check_servable
from xweb_emulator.xweb.profile import ProfileError, default_profile, merged, read_profile
from xweb_emulator.xweb.tenant import NotAuthorized, Tenant

LMS = Path(__file__).resolve().parents[1] / "fixtures" / "xweb" / "profiles" / "lms.yaml"


def test_a_profile_laid_over_the_built_in_objects_adds_its_own_and_extends_theirs():
    profile = merged(default_profile(), read_profile(LMS))

    names = [each.name for each in profile.objects]
    assert {"Committee", "EventsRegistrant", "Individual", "Customer"} <= set(names)
    overlay = read_profile(LMS)
    (individual,) = [each for each in profile.objects if each.name == "Individual"]
    (extended,) = [each for each in overlay.objects if each.name == "Individual"]
    assert individual.columns == extended.columns  # the built-in Individual declares no columns of its own
    assert "ind_pin_ext" in [column.name for column in individual.columns]
    assert profile.settings.query_row_cap == 50


def test_the_built_in_profile_is_servable_and_a_default_list_naming_no_column_is_refused():
    """The built-in profile is not checked at every start (XWeb.prepare): here, once."""
    check_servable(default_profile())
    with pytest.raises(ProfileError, match="^default: objects: Individual: list_columns: Individual has no column "
                                           "ind_nope$"):
        check_servable(merged(default_profile(),
                              read_profile("objects: [{name: Individual, list_columns: [ind_nope]}]")))


def test_object_security_is_the_users_rights_and_unlisted_users_may_do_everything():
    tenant = Tenant(merged(default_profile(), read_profile(LMS)))

    tenant.check("lms", "select", "Individual")  # "*": select
    tenant.check("lms", "update", "EventsRegistrant")
    tenant.check("demo", "insert", "Committee")  # not listed: the configured user
    with pytest.raises(NotAuthorized):
        tenant.check("lms", "insert", "Individual")
    with pytest.raises(NotAuthorized):
        tenant.check("auditor", "select", "EventsRegistrant")


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nobjects: [\n", "line"),
    ("- a list\n", "a profile is a mapping"),
    ("name: x\nusers:\n  - {name: u, password: p, rights: {Nowhere: [select]}}\n", "line 3"),
])
def test_an_unreadable_profile_is_refused_saying_where(text, message):
    with pytest.raises(ProfileError, match=message):
        read_profile(text, name="tenant.yaml")
