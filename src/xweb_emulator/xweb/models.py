"""netFORUM tables, in the vendor's column language (cst_key, eml_address, cph_key …): it is what clients speak.

Every netFORUM record carries *_add_user/_add_date/_change_user/_change_date/_delete_flag; they are kept here too so
that read-back shows who and when. Keys are GUIDs.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from xweb_emulator.db import Base

PROMOTIONAL = "promotional"
SUBSCRIPTION = "subscription"

OPT_IN, OPT_OUT, UNDEFINED = "OptIn", "OptOut", "Undefined"
MAILING_STATUSES = (OPT_IN, OPT_OUT, UNDEFINED)

# The phone type netFORUM assigns when a client sends none (vendor WSDL: cph_pht_key "has a default value of …").
DEFAULT_PHONE_TYPE_KEY = uuid.UUID("3445f817-a38f-483a-aabe-b8d3c084832b")


def _key() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def audited(prefix: str) -> type:
    """A mixin with netFORUM's audit columns under the table's column prefix (cst_add_user, cst_add_date …)."""
    columns = {
        f"{prefix}_add_user": mapped_column(String(64)),
        f"{prefix}_add_date": mapped_column(DateTime),
        f"{prefix}_change_user": mapped_column(String(64)),
        # Indexed: connectors read what changed since their last run (GetQuery … WHERE xxx_change_date > '…').
        f"{prefix}_change_date": mapped_column(DateTime, index=True),
        f"{prefix}_delete_flag": mapped_column(SmallInteger, nullable=False, default=0),
    }
    return type(f"Audited_{prefix}", (), columns)


class Country(audited("cty"), Base):
    __tablename__ = "co_country"

    cty_key: Mapped[uuid.UUID] = _key()
    cty_code: Mapped[str] = mapped_column(String(60), unique=True)
    cty_iso_2: Mapped[str | None] = mapped_column(String(2))
    cty_iso_3: Mapped[str | None] = mapped_column(String(3))
    cty_idd_code: Mapped[str | None] = mapped_column(String(10))


class PhoneType(audited("pht"), Base):
    __tablename__ = "co_phone_type"

    pht_key: Mapped[uuid.UUID] = _key()
    pht_code: Mapped[str] = mapped_column(String(30), unique=True)


class Customer(audited("cst"), Base):
    __tablename__ = "co_customer"

    cst_key: Mapped[uuid.UUID] = _key()
    cst_type: Mapped[str] = mapped_column(String(20), default="Individual")
    cst_id: Mapped[str | None] = mapped_column(String(10))
    cst_recno: Mapped[int | None] = mapped_column(Integer, index=True)  # the next number is max + 1
    cst_name_cp: Mapped[str | None] = mapped_column(String(150))
    cst_sort_name_dn: Mapped[str | None] = mapped_column(String(150))
    cst_ind_full_name_dn: Mapped[str | None] = mapped_column(String(150))
    cst_eml_key: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cst_eml_address_dn: Mapped[str | None] = mapped_column(String(100))
    cst_cph_key: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cst_phn_number_complete_dn: Mapped[str | None] = mapped_column(String(55))
    cst_no_email_flag: Mapped[int] = mapped_column(SmallInteger, default=0)
    cst_no_phone_flag: Mapped[int] = mapped_column(SmallInteger, default=0)
    cst_member_flag: Mapped[int] = mapped_column(SmallInteger, default=0)


class Individual(audited("ind"), Base):
    """co_individual: a customer who is a person. Its key is its customer's (ind_cst_key = cst_key)."""

    __tablename__ = "co_individual"

    ind_cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_customer.cst_key"), primary_key=True)
    ind_prf_code: Mapped[str | None] = mapped_column(String(20))
    ind_first_name: Mapped[str | None] = mapped_column(String(30))
    ind_mid_name: Mapped[str | None] = mapped_column(String(30))
    ind_last_name: Mapped[str | None] = mapped_column(String(30))
    ind_sfx_code: Mapped[str | None] = mapped_column(String(20))
    ind_designation: Mapped[str | None] = mapped_column(String(50))
    ind_dob: Mapped[datetime | None] = mapped_column(DateTime)
    ind_gender: Mapped[str | None] = mapped_column(String(10))
    ind_badge_name: Mapped[str | None] = mapped_column(String(30))
    ind_int_code: Mapped[str | None] = mapped_column(String(50))
    ind_deceased_flag: Mapped[int] = mapped_column(SmallInteger, default=0)


class Organization(audited("org"), Base):
    """co_organization: a customer that is an organization. Its key is its customer's (org_cst_key = cst_key)."""

    __tablename__ = "co_organization"

    org_cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_customer.cst_key"), primary_key=True)
    org_name: Mapped[str | None] = mapped_column(String(150))
    org_ogt_code: Mapped[str | None] = mapped_column(String(30))
    org_acronym: Mapped[str | None] = mapped_column(String(10))
    org_nonprofit_flag: Mapped[int] = mapped_column(SmallInteger, default=0)


class Email(audited("eml"), Base):
    __tablename__ = "co_email"

    eml_key: Mapped[uuid.UUID] = _key()
    eml_cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_customer.cst_key"), index=True)
    eml_address: Mapped[str] = mapped_column(String(80))
    # The vendor's default (its WSDL: eml_type "has a default value of 'business'").
    eml_type: Mapped[str | None] = mapped_column(String(20), default="business")
    eml_primary: Mapped[int] = mapped_column(SmallInteger, default=0)
    eml_invalid_flag: Mapped[int] = mapped_column(SmallInteger, default=0)
    eml_invalid_reason: Mapped[str | None] = mapped_column(String(50))
    eml_unlisted_flag: Mapped[int] = mapped_column(SmallInteger, default=0)


class Phone(audited("phn"), Base):
    __tablename__ = "co_phone"

    phn_key: Mapped[uuid.UUID] = _key()
    phn_cst_key_owner: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("co_customer.cst_key"))
    phn_number: Mapped[str | None] = mapped_column(String(30))
    phn_number_display: Mapped[str | None] = mapped_column(String(40))
    phn_cty_key: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("co_country.cty_key"))


class CustomerPhone(audited("cph"), Base):
    """co_customer_x_phone: which customer has which phone, and as what type."""

    __tablename__ = "co_customer_x_phone"

    cph_key: Mapped[uuid.UUID] = _key()
    cph_cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_customer.cst_key"), index=True)
    cph_phn_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_phone.phn_key"))
    cph_pht_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_phone_type.pht_key"), default=DEFAULT_PHONE_TYPE_KEY)
    cph_unlisted_flag: Mapped[int] = mapped_column(SmallInteger, default=0)
    cph_phn_number_complete: Mapped[str | None] = mapped_column(String(55))
    cph_extension: Mapped[str | None] = mapped_column(String(10))
    cph_primary: Mapped[int] = mapped_column(SmallInteger, default=0)


class MailingList(audited("mlt"), Base):
    """A mailing type a customer can opt in to or out of: promotional or subscription, with a category."""

    __tablename__ = "co_mailing_list"

    mlt_key: Mapped[uuid.UUID] = _key()
    mlt_name: Mapped[str] = mapped_column(String(100))
    mlt_category: Mapped[str | None] = mapped_column(String(100))
    mlt_type: Mapped[str] = mapped_column(String(20))


class CustomerMailingPreference(audited("cmp"), Base):
    """One customer's setting for one mailing list (a MailingListSetting)."""

    __tablename__ = "co_customer_mailing_preference"
    __table_args__ = (UniqueConstraint("cmp_cst_key", "cmp_mlt_key"),)

    cmp_key: Mapped[uuid.UUID] = _key()
    cmp_cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_customer.cst_key"), index=True)
    cmp_mlt_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_mailing_list.mlt_key"))
    cmp_status: Mapped[str] = mapped_column(String(10))
    cmp_eml_key: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("co_email.eml_key"))
    cmp_cph_key: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("co_customer_x_phone.cph_key"))
    # Addresses and faxes are not modelled: their keys are kept as sent.
    cmp_adr_key: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cmp_fax_key: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class CustomerMessagingActivity(audited("cma"), Base):
    """Email-marketing activity written back by connectors (sent, opened, clicked …)."""

    __tablename__ = "co_customer_messaging_activity"

    cma_key: Mapped[uuid.UUID] = _key()
    cma_cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_customer.cst_key"), index=True)
    cma_eml_key: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("co_email.eml_key"))
    cma_eml_address: Mapped[str | None] = mapped_column(String(80))
    cma_activity_date: Mapped[datetime] = mapped_column(DateTime)
    cma_activity_id: Mapped[str | None] = mapped_column(String(50))
    cma_message_id: Mapped[str | None] = mapped_column(String(50))
    cma_recipient_id: Mapped[str | None] = mapped_column(String(50))
    cma_activity_code: Mapped[str | None] = mapped_column(String(50))
    cma_activity_subcode: Mapped[str | None] = mapped_column(String(100))


class XWebUser(Base):
    """An xWeb account (web.config's xWeb users): what Authenticate and HTTP Basic check."""

    __tablename__ = "xweb_user"

    user_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password: Mapped[str] = mapped_column(String(128))


class AuthenticationToken(Base):
    """An issued token. In the database so that every worker and replica accepts it (netFORUM's ws_security table)."""

    __tablename__ = "xweb_token"

    token: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_name: Mapped[str] = mapped_column(ForeignKey("xweb_user.user_name", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class AuthenticationFailures(Base):
    """Failed Authenticate calls per user name and client address (FailCount / LockOutHours)."""

    __tablename__ = "xweb_auth_failure"

    user_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class Tenant(Base):
    """The tenant profile in force (one row): every worker and replica serves the same objects, users and rights,
    and a reset that switches profile switches it for all of them."""

    __tablename__ = "xweb_tenant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    """The profile's hash: what a worker compares with the profile it has compiled."""
    profile: Mapped[str] = mapped_column(Text)
    """The profile, merged over the default one, as canonical JSON."""


class TenantRecord(Base):
    """A row of a table the emulator's schema does not have: a record of an object the tenant profile declares
    (keyed by the object's table), or a built-in record's extender row (<table>_ext, keyed by the record's key).
    Its columns are kept in `values`, each as the database stores that type, so that GetQuery compares and orders
    them as it does a real column; the key and the audit columns are real columns, indexed for keyset paging and
    change-date watermarks."""

    __tablename__ = "xweb_tenant_record"
    __table_args__ = (Index("ix_xweb_tenant_record_change_date", "table_name", "change_date"),)

    table_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    record_key: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    values: Mapped[dict] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    add_user: Mapped[str | None] = mapped_column(String(64))
    add_date: Mapped[datetime | None] = mapped_column(DateTime)
    change_user: Mapped[str | None] = mapped_column(String(64))
    change_date: Mapped[datetime | None] = mapped_column(DateTime)
    delete_flag: Mapped[int] = mapped_column(SmallInteger, default=0)


# ------------------------------------------------------------------------------------------ web users and sign-on


class WebUser(Base):
    """A customer's web login (netFORUM keeps it on co_customer: cst_web_login, cst_web_password, the disabled flag);
    here a table of its own, so that a customer without one is as it was."""

    __tablename__ = "xweb_web_user"

    cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("co_customer.cst_key", ondelete="CASCADE"), primary_key=True)
    cst_web_login: Mapped[str | None] = mapped_column(String(100), unique=True)
    """The user name (the customer's recno where none was given); unused where the tenant signs in by e-mail."""
    cst_web_password: Mapped[str] = mapped_column(String(256))
    """The password's hash (werkzeug.security), never the password."""
    cst_web_login_disabled_flag: Mapped[int] = mapped_column(SmallInteger, default=0)
    """Locked out: by WEBWebUserLock, or by failed logins reaching the tenant's sign_on.fail_count."""
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    """Failed logins since the last one that succeeded."""
    remember_me: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    """The "remember me" token of WEBWebUserLoginAndRememberMe, good until the password changes or another is issued."""


class WebRole(Base):
    """A netFORUM web role (WEBGetAllRoles)."""

    __tablename__ = "xweb_web_role"

    role_name: Mapped[str] = mapped_column(String(100), primary_key=True)


class WebUserRole(Base):
    __tablename__ = "xweb_web_user_role"

    cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("xweb_web_user.cst_key", ondelete="CASCADE"),
                                               primary_key=True)
    role_name: Mapped[str] = mapped_column(ForeignKey("xweb_web_role.role_name", ondelete="CASCADE"), primary_key=True)


class SignOnToken(Base):
    """A sign-on token (WebLogin, WEBWebUserLogin, the eWeb sign-on page): not an xWeb token; it names a customer,
    expires on the emulator's clock and dies at WebLogout."""

    __tablename__ = "xweb_sign_on_token"

    token: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cst_key: Mapped[uuid.UUID] = mapped_column(ForeignKey("xweb_web_user.cst_key", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
