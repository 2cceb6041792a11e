"""Every Slack action_id, block_id and callback_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    # progress
    PROGRESS_MODAL = "progress_modal"
    PROGRESS_OPEN = "progress_open"  # "Log progress" button (value: objective id)
    PROGRESS_OBJECTIVE = "progress_objective"
    PROGRESS_ACTION = "progress_action"  # which action, for an objective with several
    PROGRESS_RAG = "progress_rag"
    PROGRESS_NOTE = "progress_note"
    PROGRESS_DATE = "progress_date"
    PROGRESS_EVIDENCE = "progress_evidence"
    # objective disambiguation ("did you mean")
    PICK_OBJECTIVE = "pick_objective"
    # reminders
    REMINDER_SNOOZE = "reminder_snooze"
    REMINDER_DONE = "reminder_done"
    # /csp setup
    SETUP_MODAL = "setup_modal"
    SETUP_NAME = "setup_name"
    SETUP_CHANNEL = "setup_channel"
    SETUP_SAFEGUARDING = "setup_safeguarding"
    SETUP_DIGEST_DAY = "setup_digest_day"
    SETUP_DIGEST_TIME = "setup_digest_time"
    SETUP_ADMINS = "setup_admins"
    SETUP_LEADS = "setup_leads"
    # meetings
    MEETING_MODAL = "meeting_modal"
    # referrals
    REFERRAL_MODAL = "referral_modal"
    REFERRAL_ACK = "referral_ack"
    REFERRAL_VIEW = "referral_view"
    REFERRAL_ASSIGN = "referral_assign"
    REFERRAL_ASSIGN_MODAL = "referral_assign_modal"
    REFERRAL_ACTION_MODAL = "referral_action_modal"
    REFERRAL_DONE_MODAL = "referral_done_modal"
    REFERRAL_DANGER = "referral_danger"
    REFERRAL_GROUP = "referral_group"
    REFERRAL_CATEGORY = "referral_category"
    REFERRAL_URGENCY = "referral_urgency"
    REFERRAL_SUBJECT_NAME = "referral_subject_name"
    REFERRAL_DOB = "referral_dob"
    REFERRAL_AGE = "referral_age"
    REFERRAL_ADDRESS = "referral_address"
    REFERRAL_LOCATION = "referral_location"
    REFERRAL_WHAT = "referral_what"
    REFERRAL_WHEN = "referral_when"
    REFERRAL_WHERE = "referral_where"
    REFERRAL_HOW_KNOWN = "referral_how_known"
    REFERRAL_REFERRER_ROLE = "referral_referrer_role"
    REFERRAL_REFERRER_AGENCY = "referral_referrer_agency"
    REFERRAL_REFERRER_CONTACT = "referral_referrer_contact"
    REFERRAL_CONSENT = "referral_consent"
    REFERRAL_CONSENT_REASON = "referral_consent_reason"
    REFERRAL_ACTIONS_TAKEN = "referral_actions_taken"
    REFERRAL_ASSIGNEE = "referral_assignee"
    REFERRAL_REFER_ON = "referral_refer_on"
    REFERRAL_NOTE = "referral_note"
    REFERRAL_OUTCOME = "referral_outcome"
    REFERRAL_REFER_ON_OPEN = "referral_refer_on_open"  # "Refer on" button in a lead's view
    REFERRAL_NOTE_OPEN = "referral_note_open"  # "Add note" button in a lead's view
    REFERRAL_CLOSE_OPEN = "referral_close_open"  # "Close referral" button in a lead's view
    REFERRAL_DETAIL_ACTIONS = "referral_detail_actions"  # the lead's view's actions block
