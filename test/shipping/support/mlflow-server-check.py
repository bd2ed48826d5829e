"""Parses `mlflow server` arguments with MLflow's own CLI definition and checks Host headers
against the resulting --allowed-hosts with MLflow's own matcher.

stdin:  JSON list of {"args": [...], "env": {...}, "hosts": [...]}
stdout: JSON list of {"params": {...}, "allowed": {host: bool}} or {"error": "..."}
"""

import json
import os
import sys

import click
from mlflow.cli import server
from mlflow.server.security_utils import get_allowed_hosts_from_env, is_allowed_host_header

results = []
for case in json.load(sys.stdin):
    saved = dict(os.environ)
    try:
        os.environ.update(case.get("env", {}))
        ctx = server.make_context("server", list(case["args"]))
        params = {k: v for k, v in ctx.params.items() if isinstance(v, (str, int, bool, type(None)))}
        if ctx.params.get("allowed_hosts"):
            os.environ["MLFLOW_SERVER_ALLOWED_HOSTS"] = ctx.params["allowed_hosts"]
        allowed_hosts = get_allowed_hosts_from_env() or []
        allowed = {h: is_allowed_host_header(allowed_hosts, h) for h in case.get("hosts", [])}
        results.append({"params": params, "allowed": allowed})
    except click.ClickException as error:
        results.append({"error": error.format_message()})
    finally:
        os.environ.clear()
        os.environ.update(saved)
json.dump(results, sys.stdout)
