"""Session engine: Django's database sessions, read with SQL compiled once a process."""

import functools

from django.contrib.sessions.backends import db
from django.utils import timezone

# Stands for the session key while the ORM compiles the query.
SESSION_KEY_MARKER = "session-key-marker"


@functools.cache
def session_sql(model, alias):
    """The SQL reading one session of `model` by its key on database `alias` (its only
    parameter). The ORM compiles it once a process: on every page, compiling it would cost more
    than running it."""
    query = model._default_manager.db_manager(alias).filter(session_key=SESSION_KEY_MARKER).query
    sql, params = query.get_compiler(using=alias).as_sql()
    if list(params) != [SESSION_KEY_MARKER]:
        raise ValueError(f"The session query takes the key only, not {params!r}.")
    return sql


class SessionStore(db.SessionStore):
    """Django's database session store, reading a session as Django does, a query a page.

    Django's store compiles that query on every page; this one compiles it once (session_sql)
    and checks the expiry date in Python, as Django's query does in SQL: an expired session
    reads as none and its key is dropped, so a new session gets a new key. Saving, creating,
    deleting and `clearsessions` are Django's.
    """

    def _get_session_from_db(self):
        manager = self.model._default_manager
        sql = session_sql(self.model, manager.db)
        session = next(iter(manager.raw(sql, [self.session_key])), None)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
