"""camera-ingest: receives camera frames and stores them with their metadata.

Part of the smart_city example; the processing is a placeholder that passes a JSON record on.

    python main.py INPUT_FILE OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time, expected_throughput


@component_name(name="camera-ingest")
@exec_time(local_time_thr=1)
@expected_throughput(rate=2)
def main(args):
    source = Path(args["input"])
    record = json.loads(source.read_text()) if source.suffix == ".json" else {"frame": source.name}
    record.setdefault("stages", []).append("camera-ingest")
    target = Path(args["output"]) / (source.stem + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
