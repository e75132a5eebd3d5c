"""Put the ONNX models where the components look for them (src/<component>/onnx/).

    python examples/mask_detection/prepare_models.py [--models DIR] [--synthetic]

With the shared data beside the repository (../shared/models) or a folder given by --models
(or AISPRINT_MODELS_DIR), the real face detectors are hard-linked in (copied only when the
two folders are on different file systems). Not symlinked: the compiler reads only regular
files inside the application and refuses a symlink that leads out of it. Without them,
small synthetic ONNX detectors with the same inputs and outputs are built instead, so the
example still validates, partitions and runs; their detections are then meaningless.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# component folder -> (model file, number of classes of the detector)
MODELS = {
    "blurry-faces-onnx": ("version-RFB-640.onnx", 2),
    "mask-detector": ("RFB-640-masked_face-v2.onnx", 3),
}


def default_models_dir() -> Path | None:
    for candidate in (os.environ.get("AISPRINT_MODELS_DIR"), REPO.parent / "shared" / "models"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate).resolve()
    return None


def prepare(models_dir: Path | None, synthetic: bool = False) -> list[str]:
    notes = []
    for component, (name, classes) in MODELS.items():
        target = HERE / "src" / component / "onnx" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        source = models_dir / name if models_dir else None
        if source and source.is_file() and not synthetic:
            try:
                os.link(source, target)
                notes.append(f"{component}: linked {source}")
            except OSError:  # another file system, or hard links not allowed
                shutil.copyfile(source, target)
                notes.append(f"{component}: copied {source}")
        else:
            sys.path.insert(0, str(REPO))
            from compiler.design.synthetic import build_detector

            build_detector(target, classes=classes, seed=len(notes))
            notes.append(f"{component}: built a synthetic stand-in for {name}")
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=None,
                        help="folder holding the real ONNX models (default: ../shared/models)")
    parser.add_argument("--synthetic", action="store_true",
                        help="build synthetic stand-ins even when the real models exist")
    args = parser.parse_args()
    models_dir = args.models or default_models_dir()
    if models_dir is None and not args.synthetic:
        print("real models not found (pass --models DIR or set AISPRINT_MODELS_DIR); "
              "building synthetic stand-ins", file=sys.stderr)
    for note in prepare(models_dir, args.synthetic):
        print(note)


if __name__ == "__main__":
    main()
