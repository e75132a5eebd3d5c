"""face-anonymizer: blurs the faces of the detected people.

Part of the smart_city example; the processing is a placeholder that passes a JSON record on.

    python main.py INPUT_FILE OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time, security


@component_name(name="face-anonymizer")
@exec_time(local_time_thr=3)
@security(trustedExecution=False, networkShield=True, filesystemShield=True)
def main(args):
    source = Path(args["input"])
    record = json.loads(source.read_text()) if source.suffix == ".json" else {"frame": source.name}
    record.setdefault("stages", []).append("face-anonymizer")
    target = Path(args["output"]) / (source.stem + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record) + "\n")
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
