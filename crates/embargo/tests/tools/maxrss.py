"""Runs a command with a file on its stdin and reports, as JSON, its exit code, output and
peak resident memory (kilobytes, from getrusage of the finished child)."""
import json
import resource
import subprocess
import sys

stdin_path, command = sys.argv[1], sys.argv[2:]
with open(stdin_path, "rb") as stdin:
    done = subprocess.run(command, stdin=stdin, capture_output=True)
print(json.dumps({
    "code": done.returncode,
    "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "stdout": done.stdout.decode("utf-8", "replace"),
    "stderr": done.stderr.decode("utf-8", "replace"),
}))
