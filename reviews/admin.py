"""Admin registrations of the reviews app (autodiscovered from here)."""

from reviews.playbooks import admin as playbooks_admin  # noqa: F401  (registers the playbook library)
