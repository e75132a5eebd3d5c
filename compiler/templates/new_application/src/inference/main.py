"""inference: the model step of {{app_name}} (replace with your own code).

Run it locally:  python src/inference/main.py INPUT_FILE OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time


@component_name(name="inference")
@exec_time(local_time_thr=10, global_time_thr=15, prev_components=["preprocess"])
def main(args):
    source = Path(args["input"])
    result = {"file": source.name, "bytes": source.stat().st_size}
    target = Path(args["output"]) / (source.stem + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
