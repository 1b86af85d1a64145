"""API tokens: per user, issued and revoked by managers in the admin, never kept in clear."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX_LENGTH = 8
TOKEN_START = "ct_"


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A user's key to the API. The token is `ct_<prefix>_<secret>`: the prefix finds the row,
    the secret is kept only as its SHA-256 hash, and the whole token is shown once, when a
    manager issues it. Revoked, never deleted: the row says who used the API with it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text="The API acts as this user, with this user's role.",
    )
    name = models.CharField(
        max_length=100, help_text="What the token is for: 'booking system', 'accounts export'."
    )
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    secret_hash = models.CharField("SHA-256 of the secret", max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        editable=False,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True) | models.Q(revoked_by__isnull=False),
                name="apitoken_revoked_by_someone",
            ),
        ]

    def __str__(self):
        state = " (revoked)" if self.revoked_at else ""
        return f"{self.name} for {self.user} ({TOKEN_START}{self.prefix}…){state}"

    @classmethod
    def issue(cls, *, user, name, by):
        """A new token for `user`: (the row, the token in clear, to show once)."""
        while True:
            prefix = secrets.token_hex(PREFIX_LENGTH // 2)
            if not cls.objects.filter(prefix=prefix).exists():
                break
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=prefix, secret_hash=hash_secret(secret), created_by=by
        )
        return token, f"{TOKEN_START}{prefix}_{secret}"

    @classmethod
    def find(cls, raw):
        """The usable token whose text is `raw`, or None."""
        if not raw.startswith(TOKEN_START):
            return None
        prefix, _, secret = raw[len(TOKEN_START) :].partition("_")
        if len(prefix) != PREFIX_LENGTH or not secret:
            return None
        token = cls.objects.usable().select_related("user").filter(prefix=prefix).first()
        if token is None or not hmac.compare_digest(token.secret_hash, hash_secret(secret)):
            return None
        return token

    def revoke(self, *, by):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.revoked_by = by
            self.save(update_fields=["revoked_at", "revoked_by"])

    @property
    def is_revoked(self):
        return self.revoked_at is not None
