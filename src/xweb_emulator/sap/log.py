"""What a bundle operation answers, in neutral form: a confirmation node per campaign it changed (or, for a Check,
would have changed) and the Log (GDT Log / LogItem) of everything it found.

Log items carry SAP's `<number>(<message class>)` TypeID. The seed shows messages 001 and 002 of class
/CM_A2X_MNG_CMPG_OUTB/ ("Account A2001 does not exist", "Contact person CP2002 does not exist"); the other numbers
and their wording are the emulator's, in the same class and style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MESSAGE_CLASS = "/CM_A2X_MNG_CMPG_OUTB/"
CATEGORY = "SEI.SCV"  # as in the seed's failure sample, for every item of input validation

INFORMATION, WARNING, ERROR = 1, 2, 3


@dataclass(frozen=True)
class LogItem:
    number: str
    severity: int
    note: str
    reference: str | None  # the ObjectNodeSenderTechnicalID of the request node the item is about

    @property
    def type_id(self) -> str:
        return f"{self.number}({MESSAGE_CLASS})"


@dataclass(frozen=True)
class Message:
    number: str
    text: str
    severity: int = ERROR

    def item(self, reference: str | None, **values: Any) -> LogItem:
        # A LogItemNote holds at most 200 characters.
        return LogItem(self.number, self.severity, self.text.format(**values)[:200], reference)


ACCOUNT_MISSING = Message("001", "Account {id} does not exist")
CONTACT_PERSON_MISSING = Message("002", "Contact person {id} does not exist")
CAMPAIGN_MISSING = Message("003", "Campaign {id} does not exist")
CAMPAIGN_NOT_IDENTIFIED = Message("004", "Specify the campaign by ID or ReferenceID")
CAMPAIGN_IDS_DISAGREE = Message("005", "Campaign ID {id} and reference ID {reference_id} denote different campaigns")
EXECUTION_TYPE_NOT_ALLOWED = Message(
    "006", "Campaign {id} has execution type {code}; {inbounds} are allowed for execution types {allowed} only")
ACTION_CODE_NOT_ALLOWED = Message(
    "007", "Action code {code} is not allowed for node {node}; only {allowed} ({meaning}) is supported")
ACCOUNT_REQUIRED = Message(
    "008", "Specify the account (CustomerUUID or CustomerInternalID); a contact person alone is not allowed")
ACCOUNT_IDS_DISAGREE = Message("009", "Account UUID {uuid} and account ID {id} denote different accounts")
CONTACT_PERSON_IDS_DISAGREE = Message(
    "010", "Contact person UUID {uuid} and contact person ID {id} denote different contact persons")
CONTACT_PERSON_OF_OTHER_ACCOUNT = Message(
    "011", "Contact person {contact} is not a contact person of account {account}")
OUTBOUND_MISSING = Message("012", "Campaign {campaign} has no outbound for {addressee}")
MAIL_SYSTEM_ERROR_CODE_REQUIRED = Message("013", "Specify the mail system error code (MailSystemErrorCode)")
MAIL_SYSTEM_ERROR_CODE_INVALID = Message(
    "014", "Mail system error code {code} is invalid; expected class.subject.detail as in RFC 3463 "
           "(class 2, 4 or 5; subject and detail of 1 to 3 digits)")
MAILING_PERMISSION_INDICATOR_REQUIRED = Message(
    "015", "Specify the mailing permission denied indicator (MailingPermissionDeniedIndicator)")
CREATION_DATE_TIME_REQUIRED = Message("016", "Specify the reaction's creation time (CreationDateTime)")
REACTION_TYPE_REQUIRED = Message("017", "Specify the reaction type (CampaignReactionTypeCode)")
REACTION_TYPE_INVALID = Message(
    "018", "Reaction type {code} is not supported; use 20 (E-mail opened) or 21 (Link clicked)")
TRACKING_LINK_REQUIRED = Message(
    "019", "A link click needs the clicked link (ReactionTracking with TargetLinkUUID or TargetLinkWebURI)")
TRACKING_LINK_MISSING = Message("020", "Campaign {campaign} has no tracking link {link}")
LIST_PROCESSING_NOT_SUPPORTED = Message(
    "021", "List processing is not supported: "
           "inboundBusinessTransactionDocumentReferenceListCompleteTransmissionIndicator must be false")
TOO_MANY_INSTANCES = Message(
    "022", "The request holds {count} inbound instances; at most {limit} are supported in one call")
INJECTED_ERROR = Message("023", "Processing error (injected by xweb-emulator); nothing was changed")


@dataclass(frozen=True)
class CampaignConfirmation:
    change_state_id: str
    reference: str | None  # the campaign node's ObjectNodeSenderTechnicalID
    uuid: str
    id: str


@dataclass
class Confirmation:
    campaigns: list[CampaignConfirmation] = field(default_factory=list)
    items: list[LogItem] = field(default_factory=list)

    @property
    def maximum_severity(self) -> int | None:
        return max((item.severity for item in self.items), default=None)

    @property
    def failed(self) -> bool:
        """Whether the Log reports an error: what clients test (MaximumLogItemSeverityCode 3)."""
        return self.maximum_severity == ERROR

    def neutral(self) -> dict[str, Any]:
        """The confirmation message's content, elements in the order of the seed's samples; an empty <Log/> when
        nothing was logged."""
        content: dict[str, Any] = {}
        if self.campaigns:
            content["Campaign"] = [
                {"ChangeStateID": campaign.change_state_id,
                 "ReferenceObjectNodeSenderTechnicalID": campaign.reference,
                 "UUID": campaign.uuid,
                 "ID": campaign.id}
                for campaign in self.campaigns
            ]
        log: dict[str, Any] = {}
        if self.items:
            log["MaximumLogItemSeverityCode"] = str(self.maximum_severity)
            log["Item"] = [
                {"TypeID": item.type_id,
                 "CategoryCode": CATEGORY,
                 "SeverityCode": str(item.severity),
                 "ReferenceObjectNodeSenderTechnicalID": item.reference,
                 "Note": item.note}
                for item in self.items
            ]
        content["Log"] = log
        return content
