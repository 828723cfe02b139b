"""`manage.py setup_demo`: put the demo workflow in place (idempotent)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from workflows.demo import demo_definition
from workflows.models import Workflow
from workflows.services import workflow_create

DEMO_OWNER = "demo@wfaib.local"


class Command(BaseCommand):
    help = "Create the demo workflow (owned by demo@wfaib.local) unless it exists."

    def handle(self, *args, **options):
        if Workflow.objects.filter(name="demo").exists():
            self.stdout.write("The demo workflow is already in place.")
            return
        owner, created = get_user_model().objects.get_or_create(email=DEMO_OWNER)
        if created:
            owner.set_unusable_password()
            owner.save()
        workflow = workflow_create(
            owner=owner, name="demo", definition=demo_definition(),
            description="Greets a name, checks this server's health over HTTP, and summarises.",
        )
        self.stdout.write(f"Created the demo workflow (id {workflow.pk}). "
                          "Run it with: python manage.py run_workflow demo --input '{\"name\": \"Ada\"}'")
