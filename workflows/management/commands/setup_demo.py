"""`manage.py setup_demo`: put the demo workflow in place (idempotent)."""

import os
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from workflows.demo import demo_definition
from workflows.models import Workflow
from workflows.services import workflow_create

DEMO_OWNER = "demo@wfaib.local"


def python() -> str:
    """The interpreter running this, as a command to paste in the project folder
    (`.venv/bin/python` rather than whichever `python` a fresh shell finds)."""
    path = os.path.relpath(sys.executable, settings.BASE_DIR)
    return path if not path.startswith("..") else sys.executable


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
        self.stdout.write(f"Created the demo workflow (id {workflow.pk}). Run it with:\n"
                          f"  {python()} manage.py run_workflow demo --input "
                          """'{"name": "Ada"}'""")
