from django.contrib import admin

from releases.models import (
    ApiToken,
    App,
    AuditEvent,
    CheckSuppression,
    Membership,
    PlatformAccount,
    Qualification,
    Team,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    inlines = [MembershipInline]


@admin.register(PlatformAccount)
class PlatformAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "platform", "team"]
    # Secrets are write-only: never rendered back, even to admins.
    exclude = ["component_appsecret", "message_token", "encoding_aes_key"]


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ["name", "appid", "team", "platform_account"]
    exclude = ["authorizer_refresh_token"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["id", "at", "actor_name", "action", "from_state", "to_state", "release_id"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read here (`manage.py api_token` makes them): whose, since when, last used to change
    something (releases/tokens.py). Only the hash is stored; nothing shown lets anyone use one."""

    list_display = ["prefix", "name", "user", "created_at", "last_write"]
    fields = ["prefix", "name", "user", "created_at", "last_used_at"]
    readonly_fields = fields

    @admin.display(description="Last used to change something", ordering="last_used_at")
    def last_write(self, obj):
        return obj.last_used_at

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    """Read here; write on the app page or the API, which audit every change."""

    list_display = ["app", "kind", "name", "number", "expires_on"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CheckSuppression)
class CheckSuppressionAdmin(admin.ModelAdmin):
    """Read here; write on the app page or the API, which audit every change."""

    list_display = ["app", "key", "expires_on", "created_by", "removed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from web import admin_playbooks  # noqa: E402, F401  (registers the playbook library)
