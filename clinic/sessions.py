"""Session engine: Django's database sessions, read with SQL compiled once a process."""

import functools

from django.contrib.sessions.backends import db
from django.utils import timezone

from clinic.expressions import compiled

# Stands for the session key while the ORM compiles the query.
SESSION_KEY_MARKER = "session-key-marker"


@functools.cache
def session_sql(model, alias):
    """The SQL reading one session of `model` by its key on database `alias`. The ORM compiles
    it once a process: on every page, compiling it would cost more than running it."""
    sessions = model._default_manager.db_manager(alias)
    return compiled(sessions.filter(session_key=SESSION_KEY_MARKER), SESSION_KEY_MARKER)


class SessionStore(db.SessionStore):
    """Django's database session store, reading a session as Django does, a query a page.

    Django's store compiles that query on every page; this one compiles it once (session_sql)
    and checks the expiry date in Python, as Django's query does in SQL: an expired session
    reads as none and its key is dropped, so a new session gets a new key. Saving, creating,
    deleting and `clearsessions` are Django's.
    """

    def _get_session_from_db(self):
        manager = self.model._default_manager
        query = session_sql(self.model, manager.db)
        session = next(iter(manager.raw(query.sql, query.params_with(self.session_key))), None)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
