"""Reading the workspace's pages in view tests: errors where the user sees them."""

import html
import re


def field_errors(response, auto_id):
    """The error messages crispy-forms shows under the field whose input id is `auto_id`."""
    content = response.content.decode()
    found = re.findall(
        rf'id="error_\d+_{re.escape(auto_id)}"[^>]*>\s*<strong>(.*?)</strong>', content, re.S
    )
    return [html.unescape(message) for message in found]


def submission_keys(response):
    """The one-time keys of the create forms on the page (clinic.submissions), in page order."""
    return re.findall(r'name="submission_key" value="([0-9a-f-]{36})"', response.content.decode())


def text(response):
    """The page's visible text, tags stripped and whitespace collapsed."""
    return visible_text(response.content.decode())


def visible_text(markup):
    """The visible text of HTML `markup`: tags stripped, whitespace collapsed."""
    content = re.sub(r"<(script|template)\b.*?</\1>", " ", markup, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content))).strip()


# Queries every signed-in page makes whatever it shows: the session, the user, the user's own
# and their groups' permissions, in one query (clinic.backends.RoleBackend), and the clinic's
# details for the brand (cached, but each test starts cold). The session is saved
# again at most once a minute (clinic.middleware.IdleLogoffMiddleware), not within a test. View
# tests bound a page's queries as SIGNED_IN_QUERIES + the page's own, the same bound at every
# data size.
SIGNED_IN_QUERIES = 4
# With DJANGO_REDIS_URL the session is read from Redis (the `sessions_as_with_redis` fixture):
# the pages closest to the 15-query budget are held to it so.
SIGNED_IN_QUERIES_WITH_REDIS = SIGNED_IN_QUERIES - 1
