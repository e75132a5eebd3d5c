"""Profile time and model accuracy of `aisprint profile` on the mask-detection example.

    python benchmarks/profile_time.py [--images DIR] [--repetitions N]

Copies examples/mask_detection to a temporary folder, links the real ONNX models in
(../shared/models), profiles every unit over the photos (default ../shared/images) at the
default configurations of this machine and prints, per unit, the mean time per request of
each configuration, the chosen regressor and its MAPE on the held-out runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from compiler.profile.campaign import profile_application  # noqa: E402

SHARED = Path(os.environ.get("AISPRINT_SHARED", REPO.parent / "shared"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=SHARED / "images")
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "mask_detection"
        shutil.copytree(REPO / "examples" / "mask_detection", app,
                        ignore=shutil.ignore_patterns("*.onnx", "__pycache__"))
        env = dict(os.environ, AISPRINT_MODELS_DIR=str(SHARED / "models"))
        subprocess.run([sys.executable, str(app / "prepare_models.py")], check=True, env=env,
                       capture_output=True)
        began = time.perf_counter()
        result = profile_application(app, inputs=args.images, repetitions=args.repetitions)
        seconds = time.perf_counter() - began
    print(f"{len(list(args.images.iterdir()))} inputs, {args.repetitions} repetitions, "
          f"{result.cpus} CPU(s): profile took {seconds:.1f} s")
    print(f"{'unit':20} {'p x cores':10} {'mean s/req':>10}  {'regressor':16} {'MAPE':>7}")
    for rep in result.units:
        mape = "-" if rep.model.holdout_mape is None else f"{rep.model.holdout_mape:.1%}"
        for i, config in enumerate(rep.configurations, 1):
            runs = [r.runtime for r in rep.rows if r.configuration == i]
            print(f"{rep.unit.name:20} {config.parallelism} x {config.cores:<6} "
                  f"{sum(runs) / len(runs):10.4f}  {rep.model.technique:16} {mape:>7}")


if __name__ == "__main__":
    main()
