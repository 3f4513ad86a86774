"""Django admin for the playbook library (staff users).

Editing a version never changes it: saving an existing version's form publishes the edited
steps as the playbook's next version (Django's "save as new"), so tasks planned from the
old version keep pointing at what their authors read.
"""

from django.contrib import admin
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.html import format_html

from releases.models import Playbook, PlaybookStep, PlaybookVersion, Rejection, UnclassifiedReason


class PlaybookStepInline(admin.StackedInline):
    model = PlaybookStep
    extra = 0
    fields = [("position", "key", "required"), "title", "description", ("check_key", "evidence")]
    ordering = ["position", "pk"]


@admin.register(PlaybookVersion)
class PlaybookVersionAdmin(admin.ModelAdmin):
    inlines = [PlaybookStepInline]
    list_display = ["playbook", "number", "note", "created_by", "created_at"]
    list_filter = ["playbook"]
    readonly_fields = ["number", "created_by", "created_at"]
    fieldsets = [
        (
            None,
            {
                "fields": ["playbook", "note", "number", "created_by", "created_at"],
                "description": "Saving publishes the steps below as a new version; this one is kept.",
            },
        )
    ]
    save_as = True

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "playbook"] if obj is not None else self.readonly_fields

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and request.method == "POST":
            request.POST = request.POST.copy()
            request.POST["_saveasnew"] = "1"
            original = PlaybookVersion.objects.filter(pk=object_id).first()
            if original is not None:
                request.POST["playbook"] = str(original.playbook_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            Playbook.objects.select_for_update().filter(pk=obj.playbook_id).first()
            obj.pk = None
            obj.number = (
                PlaybookVersion.objects.filter(playbook_id=obj.playbook_id).aggregate(n=Max("number"))["n"]
                or 0
            ) + 1
            obj.created_by = request.user
            obj.save()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["category", "platform", "title", "current_version", "edit_steps"]
    list_filter = ["platform"]

    def get_readonly_fields(self, request, obj=None):
        return ["category", "platform"] if obj is not None else []

    @admin.display(description="Current version")
    def current_version(self, obj):
        version = obj.current
        return f"v{version.number} ({version.steps.count()} steps)" if version else "—"

    @admin.display(description="Steps")
    def edit_steps(self, obj):
        version = obj.current
        if version is None:
            url = reverse("admin:releases_playbookversion_add") + f"?playbook={obj.pk}"
            return format_html('<a href="{}">Write the first version</a>', url)
        url = reverse("admin:releases_playbookversion_change", args=[version.pk])
        return format_html('<a href="{}">Edit (creates v{})</a>', url, version.number + 1)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rejection)
class RejectionAdmin(ReadOnlyAdmin):
    list_display = ["at", "release", "categories", "audit_id"]
    list_filter = ["at"]


@admin.register(UnclassifiedReason)
class UnclassifiedReasonAdmin(ReadOnlyAdmin):
    """Unknown rejection reasons, most frequent first: add rules for them to rules.toml."""

    list_display = ["count", "text", "last_seen_at"]
    ordering = ["-count", "-last_seen_at"]
