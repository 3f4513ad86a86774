from pathlib import Path

from releases.management.commands.release_graph import mermaid


def test_the_readme_shows_the_state_machine_the_code_has():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"```mermaid\n{mermaid()}\n```" in readme
