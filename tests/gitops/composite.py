"""Runs the steps of a composite action (action.yml) the way the Actions runner does, so the
tests exercise the action's own shell steps and conditions, not a copy of them.

Each `run:` step gets a fresh environment: the runner's variables the test passes, plus the
step's own `env:` block with its `${{ }}` expressions evaluated — nothing of the test process
leaks in, so what a step sees is exactly what the action gives it. `uses:` steps are played by
handlers the test supplies (setup-python, cache, upload-artifact). The expression language is
the small part action.yml uses; anything else raises, so the action cannot outgrow the test
silently.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    name: str
    env: dict[str, str]  # the whole environment the step ran with ({} for a `uses:` step)
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass
class Result:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(s.returncode == 0 for s in self.steps)

    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def log(self) -> str:
        return "\n".join(f"--- {s.name} ({s.returncode})\n{s.stdout}{s.stderr}"
                         for s in self.steps)


class Expressions:
    """`${{ }}` over the contexts of a job: github, vars, secrets, runner, inputs, steps."""

    def __init__(self, contexts: Mapping[str, object]):
        self.contexts = dict(contexts)

    def value(self, expr: str):
        expr = expr.strip()
        if literal := re.fullmatch(r"'([^']*)'", expr):
            return literal.group(1)
        head, *path = expr.split(".")
        if head not in self.contexts:
            raise ValueError(f"the test runner cannot evaluate {expr!r}")
        node = self.contexts[head]
        for key in path:
            node = node.get(key, "") if isinstance(node, Mapping) else ""
        return "" if node is None else node

    def condition(self, expr: str) -> bool:
        expr = EXPRESSION.fullmatch(expr.strip()).group(1) if expr.strip().startswith("${{") \
            else expr
        results = []
        for part in expr.split("&&"):
            match = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*('[^']*'|\S+)\s*", part)
            if not match:
                raise ValueError(f"the test runner cannot evaluate the condition {expr!r}")
            left, op, right = self.value(match.group(1)), match.group(2), \
                self.value(match.group(3))
            results.append((str(left) == str(right)) == (op == "=="))
        return all(results)

    def text(self, text) -> str:
        return EXPRESSION.sub(lambda m: str(self.value(m.group(1))), str(text))


def run_composite(action_file: Path, with_: Mapping[str, str], *, contexts: Mapping,
                  env: Mapping[str, str], cwd: Path, uses: Mapping[str, Callable],
                  skip: tuple[str, ...] = ()) -> Result:
    """Run ``action_file``'s steps with the inputs ``with_``; stop at the first failure.
    Steps whose id is in ``skip`` are left out (the test stands in for what they do)."""
    action = yaml.safe_load(action_file.read_text())
    result = Result()
    expressions = Expressions({**contexts, "steps": result.outputs})
    inputs = {name: expressions.text(spec.get("default", ""))
              for name, spec in action.get("inputs", {}).items()}
    unknown = set(with_) - set(inputs)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    inputs.update({k: str(v) for k, v in with_.items()})
    expressions.contexts["inputs"] = inputs
    scratch = Path(env["RUNNER_TEMP"]) / "_steps"
    scratch.mkdir(parents=True, exist_ok=True)
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name") or step.get("uses") or step.get("id") or f"step {index}"
        if "if" in step and not expressions.condition(step["if"]):
            continue
        if step.get("id") in skip:
            continue
        if "uses" in step:
            handler = uses[step["uses"].split("@")[0]]
            given = {k: expressions.text(v) for k, v in (step.get("with") or {}).items()}
            result.outputs[step.get("id", f"_{index}")] = {"outputs": handler(given)}
            result.steps.append(StepRun(name, {}))
            continue
        output = scratch / f"output-{index}"
        output.write_text("")
        script = scratch / f"step-{index}.sh"
        script.write_text(step["run"])
        step_env = {**env, "GITHUB_OUTPUT": str(output),
                    **{k: expressions.text(v) for k, v in (step.get("env") or {}).items()}}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=cwd, env=step_env, capture_output=True, text=True, timeout=600)
        result.steps.append(StepRun(name, step_env, done.returncode, done.stdout, done.stderr))
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()
                       if "=" in line)
        if step.get("id"):
            result.outputs[step["id"]] = {"outputs": outputs}
        if done.returncode != 0:
            break
    return result
