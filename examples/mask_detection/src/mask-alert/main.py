"""mask-alert: raise an alert when a photo shows people without a mask.

Input: a <photo>.masks.json report from mask-detector. Output: <photo>.alert.json when at least
one unmasked face was seen (nothing otherwise). Light enough for a small serverless function.

    python main.py REPORT.masks.json OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time, security


@component_name(name="mask-alert")
@exec_time(local_time_thr=2, global_time_thr=40,
           prev_components=["blurry-faces-onnx", "mask-detector"])
@security(trustedExecution=False, networkShield=True, filesystemShield=True)
def main(args):
    source = Path(args["input"])
    if not source.name.endswith(".masks.json"):
        return None  # mask-detector also writes the annotated photo: not ours to read
    report = json.loads(source.read_text())
    if report["unmasked_faces"] == 0:
        return None
    output = Path(args["output"])
    output.mkdir(parents=True, exist_ok=True)
    target = output / source.name.replace(".masks.json", ".alert.json")
    alert = {
        "image": report["image"],
        "unmasked_faces": report["unmasked_faces"],
        "masked_faces": report["masked_faces"],
        "severity": "high" if report["unmasked_faces"] > 2 else "low",
    }
    target.write_text(json.dumps(alert, indent=2) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
