#!/bin/sh
# OSCAR runs this script for each file that arrives in the service's input bucket:
# the component's main.py reads it and writes its results where OSCAR uploads them.
set -e
cd /opt/notifier
exec python main.py "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR"
