"""Print the release state machine as a Mermaid diagram (the README embeds this output)."""

from django.core.management.base import BaseCommand
from django_fsm import GET_STATE

from releases.models import FAILED_TO_IN_FLIGHT, IN_FLIGHT_TO_FAILED, Release


def mermaid() -> str:
    edges = []
    for transition in Release(state="draft").get_all_state_transitions():
        source = transition.source
        if isinstance(transition.target, GET_STATE):
            mapping = IN_FLIGHT_TO_FAILED if transition.name == "step_failed" else FAILED_TO_IN_FLIGHT
            target = mapping[source]
        else:
            target = transition.target
        if source == target:
            continue  # approve, review_delayed: recorded facts, not moves
        edges.append(f"    {source} --> {target}: {transition.name}")
    return "\n".join(["stateDiagram-v2", "    [*] --> draft", *sorted(set(edges))])


class Command(BaseCommand):
    help = "Print the release state machine as a Mermaid stateDiagram."

    def handle(self, *args, **options):
        self.stdout.write(mermaid())
