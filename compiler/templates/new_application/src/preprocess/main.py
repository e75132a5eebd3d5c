"""preprocess: normalises each input file before inference (replace with your own code).

Run it locally:  python src/preprocess/main.py INPUT_FILE OUTPUT_DIR
"""

import sys
from pathlib import Path

from aisprint.annotations import component_name, exec_time


@component_name(name="preprocess")
@exec_time(local_time_thr=5)
def main(args):
    source = Path(args["input"])
    target = Path(args["output"]) / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return str(target)


if __name__ == "__main__":
    print(main({"input": sys.argv[1], "output": sys.argv[2]}))
