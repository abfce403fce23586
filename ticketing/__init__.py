"""Tickets: models, rules and services with no web framework in them.

The portal drives this package; nothing here imports Flask or the portal. Agents are referred
to by integer ids (the accounts live in the portal's metadata)."""
