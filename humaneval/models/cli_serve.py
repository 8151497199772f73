"""`python -m humaneval.models serve --config FILE`: run the batching model server until interrupted."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading

from humaneval.input_errors import exit_on_input_error
from humaneval.models.server import ModelService, load_server_config, start_http_server

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Serve reply models and safety checks over HTTP (endpoints /health, /models, /reply, /classify).
Concurrent requests to the same model are batched dynamically. The server listens on 127.0.0.1 unless the
config says otherwise; on any other address it requires a bearer token (from the variable named by
`token_env`, default HUMANEVAL_SERVER_TOKEN, or from `token_file`). It holds at most `max_connections`
connections and closes any that stays silent for `read_timeout_s`. With --ray the same service runs as
replicas on Ray Serve (the config's `ray` section). See task_configs/serve.yaml for every config key and
docs/serving.md for the API."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m humaneval.models serve", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="server YAML: models, batching, safety checks, host/port, token (task_configs/serve.yaml)")
    parser.add_argument("--host", help="override the config's bind address (non-loopback needs a token)")
    parser.add_argument("--port", type=int,
                        help="override the config's port; 0 picks a free port (printed on start)")
    parser.add_argument("--device", help="override the device of every model and classifier (cpu, cuda, cuda:1)")
    parser.add_argument("--ray", action="store_true",
                        help="deploy on Ray Serve: the config's `ray` section sets replicas, CPUs/GPUs per replica and "
                             "autoscaling (needs humaneval[scale]; docs/scaling.md)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging level on stderr (default INFO)")
    return parser


@exit_on_input_error
def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_server_config(args.config)
    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    config = dataclasses.replace(config, **overrides).with_device(args.device)
    token = config.required_token()  # checked before the slow model loading
    if not config.models:
        print(f"error: {args.config}: field 'models': no models configured", file=sys.stderr)
        return 2

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.ray:
        from humaneval.models.ray_serve import serve_on_ray

        return serve_on_ray(config, token, stop)

    service = ModelService.from_config(config).start()
    try:
        running = start_http_server(service, host=config.host, port=config.port, token=token,
                                    max_request_bytes=config.max_request_bytes,
                                    read_timeout_s=config.read_timeout_s, max_connections=config.max_connections,
                                    worker_threads=config.worker_threads)
    except (OSError, ValueError) as err:  # waitress raises ValueError for a host it cannot resolve
        service.close()
        reason = getattr(err, "strerror", None) or err
        print(f"error: cannot listen on {config.host}:{config.port} ({reason})", file=sys.stderr)
        return 1
    names = ", ".join(m.name for m in config.models)
    auth = "bearer token required" if token else "no token (loopback only)"
    print(f"serving {names} on http://{config.host}:{running.port} ({auth})", flush=True)
    try:
        stop.wait()
    finally:
        print("shutting down", flush=True)
        service.close()  # first: requests waiting for a model get 503 (retry later) instead of hanging the stop
        running.stop()
    return 0
