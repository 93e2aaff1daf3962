"""Sign-in with a second factor: TOTP, WebAuthn security keys and recovery codes.

``policy`` says who must have a factor, ``session`` keeps the sign-in state,
``totp`` / ``webauthn_keys`` / ``recovery`` hold each factor's rules (each change
audited in its transaction), the ``*_views`` modules are the pages.
"""
