"""Authentication backend: Django's own, with a user's permissions read with the user."""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db.models import Aggregate, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Concat

from clinic.expressions import compiled

SEPARATOR = ","  # permission names are "app_label.codename": letters, digits, "_" and "."


class JoinedAcrossRows(Aggregate):
    """A text expression's values joined by SEPARATOR: string_agg (PostgreSQL), group_concat."""

    function = "STRING_AGG"
    template = f"%(function)s(%(expressions)s, '{SEPARATOR}')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def with_permissions(users):
    """`users` with the names ("app.codename") of their own and their groups' permissions, each
    joined in one text: `own_permissions` and `group_permissions` (None when there are none)."""
    user = OuterRef("pk")
    name = Concat("permission__content_type__app_label", Value("."), "permission__codename")
    lists = {
        "own_permissions": get_user_model().user_permissions.through.objects.filter(user=user),
        "group_permissions": Group.permissions.through.objects.filter(group__user=user),
    }
    return users.annotate(
        **{
            annotation: Subquery(
                links.order_by()
                .values(everything=Value(1))  # one group: the aggregate's single row
                .values(joined=JoinedAcrossRows(name))
            )
            for annotation, links in lists.items()
        }
    )


# Stands for the user's key while the ORM compiles the sign-in query: keys are never negative.
USER_KEY_MARKER = -7_654_321


@functools.cache
def user_with_permissions_sql(alias):
    """The SQL reading one user with their permissions (with_permissions()) on database `alias`,
    the user's key standing for USER_KEY_MARKER. The ORM compiles it once a process: on every
    page, compiling its two subqueries would cost more than running them."""
    users = with_permissions(get_user_model()._default_manager.db_manager(alias))
    return compiled(users.filter(pk=USER_KEY_MARKER), USER_KEY_MARKER)


class ModelBackendOneQuery(ModelBackend):
    """Django's ModelBackend, reading a signed-in user and their permissions in one query.

    Every page loads the user and checks a permission; ModelBackend reads the user, then the
    user's own and their groups' permissions, in three queries; this reads them in one (the
    permissions of a user it did not load, in one more). Superusers and inactive users are
    treated exactly as ModelBackend treats them.
    """

    def get_user(self, user_id):
        users = get_user_model()._default_manager
        try:
            key = users.model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        query = user_with_permissions_sql(users.db)
        user = next(iter(users.raw(query.sql, query.params_with(key))), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:
            user._perm_cache = as_set(user.own_permissions, user.group_permissions)
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
                user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
            else:
                user = with_permissions(get_user_model()._default_manager).filter(pk=user_obj.pk)
                user_obj._perm_cache = as_set(
                    *user.values_list("own_permissions", "group_permissions").get()
                )
        return user_obj._perm_cache


def as_set(*joined):
    """The permission names in the joined lists (None: an empty list)."""
    return {name for names in joined if names for name in names.split(SEPARATOR)}
