"""Run the three components in a row on a folder of photos, as OSCAR would chain them.

    python examples/mask_detection/run_pipeline.py PHOTOS_DIR OUTPUT_DIR

Each component's output folder is the next one's input (blurry-faces-onnx -> mask-detector ->
mask-alert). Run prepare_models.py first. Prints one line per photo and the time per stage.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHAIN = ("blurry-faces-onnx", "mask-detector", "mask-alert")
PHOTOS = (".jpg", ".jpeg", ".png")


def load_component(name: str):
    spec = importlib.util.spec_from_file_location(f"component_{name.replace('-', '_')}",
                                                  HERE / "src" / name / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def run(photos: Path, output: Path) -> list[dict]:
    mains = {name: load_component(name) for name in CHAIN}
    results = []
    for photo in sorted(p for p in photos.iterdir() if p.suffix.lower() in PHOTOS):
        timings, current = {}, photo
        for name in CHAIN:
            start = time.perf_counter()
            produced = mains[name]({"input": str(current), "output": str(output / name)})
            timings[name] = time.perf_counter() - start
            if produced is None:
                break
            current = Path(produced)
            if name == "mask-detector":  # the alert reads the report, not the drawn photo
                current = output / name / (photo.stem + ".masks.json")
        results.append({"photo": photo.name, "alert": current.name.endswith(".alert.json"),
                        "seconds": timings})
    return results


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    for r in run(Path(sys.argv[1]), Path(sys.argv[2])):
        stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in r["seconds"].items())
        print(f"{r['photo']:24} alert={'yes' if r['alert'] else 'no ':3}  {stages}")


if __name__ == "__main__":
    main()
