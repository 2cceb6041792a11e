"""Referral delivery kinds: the outbox names of the alerts and notices referrals send."""

from __future__ import annotations

from typing import Final

# The alert posted in the safeguarding channel when a referral arrives.
ALERT_KIND: Final = "referral_alert"
# To each safeguarding lead and admin while a referral waits for acknowledgement.
ESCALATION_KIND: Final = "referral_escalation"
# The alert sent to each safeguarding lead by DM when there is no usable channel.
ALERT_DM_KIND: Final = "referral_alert_dm"
# Told to each admin when a referral arrives and nobody is a safeguarding lead.
NO_LEADS_KIND: Final = "referral_no_leads"
# The referrer's receipt, sent once the alert has been tried (it says what became of it).
RECEIPT_KIND: Final = "referral_receipt"
# To the referrer when a lead acknowledges, assigns, refers on or closes the referral.
STATUS_KIND: Final = "referral_status"
# To a lead another lead assigned the referral to.
ASSIGNED_KIND: Final = "referral_assigned"
