"""plate-reader: reads licence plates (inside an SGX enclave: plates are personal data).

Part of the smart_city example; the processing is a placeholder that passes a JSON record on.

    python main.py INPUT_FILE OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time, security


@component_name(name="plate-reader")
@exec_time(local_time_thr=8, global_time_thr=20, prev_components=["vehicle-detector"])
@security(trustedExecution=True, networkShield=True, filesystemShield=True)
def main(args):
    source = Path(args["input"])
    record = json.loads(source.read_text()) if source.suffix == ".json" else {"frame": source.name}
    record.setdefault("stages", []).append("plate-reader")
    target = Path(args["output"]) / (source.stem + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
