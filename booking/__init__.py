"""Venues, workspaces, hours and closures, organisations, agents, availability, bookings, calendars."""
