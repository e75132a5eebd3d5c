"""The README's commands are the ones CI runs, and they work."""

import re

from tests.conftest import REPO


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    block = re.search(r"## Test it\n\n```bash\n(.+?)\n```", readme, re.S).group(1).strip()
    ci = (REPO / ".ci" / "run").read_text()
    assert block in ci.splitlines()


def test_every_verb_in_the_readme_exists():
    import contextlib
    import io

    from compiler.cli.main import app, run

    readme = (REPO / "README.md").read_text()
    verbs = set(re.findall(r"`aisprint ([a-z0-9-]+)", readme))
    assert {"validate", "design", "new-application", "schema"} <= verbs
    for verb in verbs:
        with contextlib.redirect_stdout(io.StringIO()):
            assert run(app, [verb, "--help"]) == 0, verb
