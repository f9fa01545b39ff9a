"""The API shell: FastAPI routes over the application layer, one router per domain
(``public``, ``consultations``, ``fund``), with who-is-asking and the security headers in
``security``, errors as statuses in ``errors``, and the materialised public figures in
``data``. Routes parse, authorise (:func:`carepool.api.security.allowed`), call and return;
no figure is computed here."""

from carepool.api.app import create_app, portal_database_url

__all__ = ["create_app", "portal_database_url"]
