"""Safeguarding referrals: the form, encrypted storage, the workflow, escalation, retention.

Contents (subject, concern, referrer contact, consent, actions, notes, outcome)
are encrypted field group by field group (:mod:`bot.referrals.crypto`) before they reach
the session, are decrypted only for a safeguarding lead's view or an export, and
never go into an exception message, a log line, a delivery payload or an audit
detail. Every read and change writes an audit record (:mod:`bot.referrals.audit`),
refused attempts included: callers should catch
:class:`bot.referrals.access.NotALead` *inside* their session scope so the refusal's
audit record is committed.

Functions flush, never commit; the caller's session scope commits. The SQL lives in
:mod:`bot.referrals.queries`, :mod:`bot.referrals.delivery_queries` and
:mod:`bot.referrals.audit_queries`.
"""
