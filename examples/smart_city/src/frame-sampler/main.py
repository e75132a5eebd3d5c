"""frame-sampler: keeps frames that differ enough from the previous one.

Part of the smart_city example; the processing is a placeholder that passes a JSON record on.

    python main.py INPUT_FILE OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time


@component_name(name="frame-sampler")
@exec_time(local_time_thr=1)
def main(args):
    source = Path(args["input"])
    record = json.loads(source.read_text()) if source.suffix == ".json" else {"frame": source.name}
    record.setdefault("stages", []).append("frame-sampler")
    target = Path(args["output"]) / (source.stem + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
