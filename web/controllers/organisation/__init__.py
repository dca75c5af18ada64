"""The organisation console: agents (invite, CSV import, deactivate), policy, usage, invoices."""
