"""Every Slack action_id, block_id and callback_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    # progress
    PROGRESS_MODAL = "progress_modal"
    PROGRESS_OPEN = "progress_open"  # "Log progress" button (value: objective id)
    PROGRESS_OBJECTIVE = "progress_objective"
    PROGRESS_RAG = "progress_rag"
    PROGRESS_NOTE = "progress_note"
    PROGRESS_DATE = "progress_date"
    PROGRESS_EVIDENCE = "progress_evidence"
    # objective disambiguation ("did you mean")
    PICK_OBJECTIVE = "pick_objective"
    # reminders
    REMINDER_SNOOZE = "reminder_snooze"
    REMINDER_DONE = "reminder_done"
    # meetings
    MEETING_MODAL = "meeting_modal"
    # referrals
    REFERRAL_MODAL = "referral_modal"
    REFERRAL_ACK = "referral_ack"
    REFERRAL_VIEW = "referral_view"
    REFERRAL_ASSIGN = "referral_assign"
    REFERRAL_ASSIGN_MODAL = "referral_assign_modal"
    REFERRAL_ACTION_MODAL = "referral_action_modal"
