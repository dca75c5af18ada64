"""Visits priced into usage lines, monthly close, invoices and credit notes, payments, payouts."""
