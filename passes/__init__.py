"""The Pass Tiers-Lieux: signed tokens, QR rendering, door scans, offline verification, revocation."""
