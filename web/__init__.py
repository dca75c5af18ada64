"""The web pages: server-rendered HTML for people in a browser (programs keep the JSON API)."""
