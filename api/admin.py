"""Managers issue API tokens for a user and revoke them; the secret is shown once."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from api.models import TOKEN_START, ApiToken


class IssueTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = get_user_model().objects.filter(is_active=True)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = IssueTokenForm
    list_display = ["name", "user", "shown_prefix", "created_at", "last_used_at", "state"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "created_by", "revoked_by"]
    search_fields = ["name", "prefix", "user__username", "user__first_name", "user__last_name"]
    readonly_fields = [
        "shown_prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ["user", "name"] if obj is None else ["user", "name", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", *self.readonly_fields]

    @admin.display(description="token starts")
    def shown_prefix(self, token):
        return f"{TOKEN_START}{token.prefix}_…"

    @admin.display(description="state")
    def state(self, token):
        return "Revoked" if token.is_revoked else "In use"

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        token, secret = ApiToken.issue(user=obj.user, name=obj.name, by=request.user)
        obj.pk = token.pk
        obj.prefix = token.prefix
        messages.warning(
            request,
            f"The token for {token.user} is {secret} — copy it now: it is shown only this once "
            "and is kept only as a hash.",
        )

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token.revoke(by=request.user)
        messages.success(request, f"{len(tokens)} token(s) revoked: they no longer open the API.")

    def has_delete_permission(self, request, obj=None):
        return False
