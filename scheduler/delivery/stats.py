"""Delivery statistics: what a delivery round did, counted per outcome, with keys and failures."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DeliveryStats:
    inserted: int = 0
    sent: int = 0
    reconciled: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    lost: int = 0  # claims whose lease ran out and another process re-leased the row
    sent_keys: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    retry_after: float = 0.0  # longest Retry-After Slack asked for (seconds)
    notices: list[str] = field(default_factory=list)  # failure notices queued (keys)

    def add(self, other: DeliveryStats) -> None:
        self.inserted += other.inserted
        self.sent += other.sent
        self.reconciled += other.reconciled
        self.rate_limited += other.rate_limited
        self.retried += other.retried
        self.failed += other.failed
        self.dropped += other.dropped
        self.lost += other.lost
        self.sent_keys.extend(other.sent_keys)
        self.failures.extend(other.failures)
        self.retry_after = max(self.retry_after, other.retry_after)
        self.notices.extend(other.notices)
