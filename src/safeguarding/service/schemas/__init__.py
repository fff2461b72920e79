"""Request and response bodies, split by direction (``*In`` / ``*Out``) and audience.

- :mod:`.platform`: what a platform's servers send and get back (events, decisions, alerts, risk).
- :mod:`.people`: sign-in, and the admin's management of platforms, keys, webhooks, people and links.

Inputs forbid unknown fields (a typo is a 422 naming the field); outputs are what the docs promise.
"""
