"""mask-classifier: tells masked from unmasked faces.

Part of the smart_city example; the processing is a placeholder that passes a JSON record on.

    python main.py INPUT_FILE OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time


@component_name(name="mask-classifier")
@exec_time(local_time_thr=6, global_time_thr=12,
           prev_components=["person-detector", "face-anonymizer"])
def main(args):
    source = Path(args["input"])
    record = json.loads(source.read_text()) if source.suffix == ".json" else {"frame": source.name}
    record.setdefault("stages", []).append("mask-classifier")
    target = Path(args["output"]) / (source.stem + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
