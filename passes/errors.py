"""Errors of door scans and anomalies; one class per way of failing."""

from __future__ import annotations

from service.kernel.errors import Conflict, TooManyAttempts
from service.kernel.i18n import N_
from service.kernel.problems import register


class TooManyScans(TooManyAttempts):
    default_detail = N_("Too many scans from this scanner; wait a second.")


class ScanIdReused(Conflict):
    default_detail = N_(
        "This scan_id was already used for another scan (other venue or direction)."
    )


class AnomalyAlreadyDecided(Conflict):
    default_detail = N_("This anomaly is already decided; a decision is final.")


class RateStillMissing(Conflict):
    default_detail = N_(
        "No venue or organisation rate is in force on the visit's date; define it, then accept."
    )


register(TooManyScans, "too-many-scans", 429, "Too many scans")
register(ScanIdReused, "scan-id-reused", 409, "scan_id already used")
register(AnomalyAlreadyDecided, "anomaly-already-decided", 409, "Already decided")
register(RateStillMissing, "rate-still-missing", 409, "Rate still missing")
