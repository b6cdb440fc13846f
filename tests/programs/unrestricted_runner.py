"""A test stand-in for the sandbox runner WITHOUT the AST policy or restricted builtins:
it applies the runner's own resource limits, then execs the request's code with full
builtins. Run only through ``Sandbox.run_script``, it shows what the OS walls alone stop.
The code stores what it found in ``result``."""

import json
import sys

request = json.loads(sys.stdin.buffer.read())
sys.path.insert(0, request["runner_dir"])
import runner  # noqa: E402

runner.limit_self(json.loads(sys.argv[1]))
out = sys.stdout
namespace = {"result": None}
try:
    exec(request["code"], namespace)  # this file exists to run hostile code
    answer = {"status": "ok", "result": namespace["result"], "logs": []}
except BaseException as exc:
    answer = {"status": "error", "error": f"{type(exc).__name__}: {exc}", "logs": []}
out.write(json.dumps(answer, default=repr))
out.flush()
