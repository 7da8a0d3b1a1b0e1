"""The embedded local stack: the whole pipeline on one machine, no AWS account, no Docker.

Start order (ports first, so that a port in use fails at once):

1. moto's server on ``--aws-port`` and the HTTP gateway on ``--port`` are bound;
2. every resource ``template.yaml`` declares is created in moto (``infra.bootstrap``);
3. the functions' environment (from the template) is applied to this process, pointing every
   boto3 client at moto through ``AWS_ENDPOINT_URL``;
4. the HTTP gateway, the event sources (SQS pollers, schedule timers) and the one-time
   scheduler start;
5. a demo organisation and key are seeded and ``.press-intake/local.json`` is written.

With a data folder (the default, ``infra.local.persistence``), the folder is locked and its
snapshot read before any port is taken (a snapshot it cannot use stops the start, untouched),
restored after step 2 (before the gateway takes a request), and saved every few seconds from
step 5 on and once more at the stop, before moto's server goes.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.apigateway.desk import deploy_desk, desk_reader
from infra.apigateway.gateway import ApiGateway
from infra.apigateway.server import DEFAULT_READ_TIMEOUT, LocalHttpServer
from infra.apigateway.site import SiteReader, error_page, response_headers_policy
from infra.bootstrap import LocalStack, bootstrap, default_clients
from infra.lambdas import LocalFunctions, local_functions
from infra.local.info import write_info
from infra.local.mail import MailCapture, MailReader
from infra.local.persistence import DEFAULT_SAVE_INTERVAL, DataFolder, Persistence
from infra.local.sources import (
    DynamoStreamPoller,
    OneTimeScheduler,
    ScheduleTimer,
    SqsPoller,
    SqsSource,
    StreamSource,
    rate_seconds,
    streams_client,
)
from infra.template import default_template_path, load_template, resources_of_type

log = logging.getLogger("press_intake.local")

DEMO_ORG_ID = "demo"
DEMO_ORG_NAME = "Demo Organisation"
STACK_NAME = "press-intake-local"
# Template parameters the local stack deploys with (when the template declares them): mail is
# sent (and captured at /mail/) from an identity of the reserved .test domain.
LOCAL_PARAMETERS = {"MailIdentity": "press-intake.test"}
# What the functions see only here, never on AWS: webhooks may be http://127.0.0.1 receivers.
LOCAL_ONLY_ENVIRONMENT = {"WEBHOOKS_ALLOW_LOOPBACK": "true"}


class PortInUse(Exception):
    def __init__(self, what: str, host: str, port: int) -> None:
        super().__init__(f"{what} port {host}:{port} is already in use")
        self.what = what
        self.host = host
        self.port = port


@dataclass
class LocalOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    aws_port: int = 5000
    template: Path | None = None
    sweep_interval: float | None = None
    scheduler_interval: float = 1.0
    verbose: bool = False
    read_timeout: float = DEFAULT_READ_TIMEOUT
    info_path: Path = field(default_factory=lambda: Path(".press-intake") / "local.json")
    region: str = "us-east-1"
    data: Path | None = field(default_factory=lambda: Path(".press-intake") / "data")  # None: memory only
    mail: Path | None = field(default_factory=lambda: Path(".press-intake") / "mail")  # None: memory only
    fresh: bool = False
    save_interval: float = DEFAULT_SAVE_INTERVAL
    parameters: dict[str, str] = field(default_factory=dict)  # the template's, e.g. the site's settings


@dataclass
class LocalInfo:
    api_url: str
    site_url: str
    aws_endpoint_url: str
    region: str
    demo_api_key: str
    demo_org_id: str
    resources: dict[str, str]
    template: str
    pid: int = field(default_factory=os.getpid)
    data: str | None = None
    desk_url: str | None = None
    mail_url: str | None = None
    mail: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "data": self.data,
            "api_url": self.api_url,
            "site_url": self.site_url,
            "desk_url": self.desk_url,
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": self.region,
            "demo_api_key": self.demo_api_key,
            "demo_org_id": self.demo_org_id,
            "resources": self.resources,
            "template": self.template,
            "mail_url": self.mail_url,
            "mail": self.mail,
        }


def _bind(what: str, host: str, port: int, factory: Any) -> Any:
    try:
        return factory()
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(what, host, port) from None
        raise


def _probe_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _keep_demo_key(repo: Any, plans: Any, token: str, *, now: datetime) -> bool:
    """The same demo key across restarts: its record is created again only if it is missing
    (``--fresh``, or data lost); a revoked or unreadable one is replaced by a new key."""
    from functions.domain import keys

    issued = keys.parse_token(token)
    if issued is None:
        log.warning("the saved demo key is not a press-intake key; issuing a new one")
        return False
    record = repo.get(issued.key_id)
    if record is None:
        repo.create(
            keys.KeyRecord(
                key_id=issued.key_id,
                org_id=DEMO_ORG_ID,
                org_name=DEMO_ORG_NAME,
                role="submitter",
                status=keys.ACTIVE,
                secret_hash=keys.hash_secret(issued.secret),
                created_at=now,
                usage_key=plans.for_organisation(DEMO_ORG_ID),
            )
        )
        return True
    if record.status != keys.ACTIVE or not keys.verify(issued, record):
        log.warning("the saved demo key was revoked; issuing a new one")
        return False
    return True


class _AwsServer:
    """moto's server, bound in the caller's thread (so a taken port is an immediate error)."""

    def __init__(self, host: str, port: int, wrap: Any = None) -> None:
        from moto.moto_server import werkzeug_app
        from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from infra.moto_atomic import make_conditional_writes_atomic
        from infra.moto_speed import Dispatcher, make_moto_cheaper

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        make_conditional_writes_atomic()
        make_moto_cheaper()
        _probe_port(host, port)  # werkzeug would print and sys.exit() on a taken port
        # No blanket CORS (moto's default allows every origin on every service): a browser's
        # upload to the uploads bucket is answered by that bucket's own CORS rules, the
        # template's, as S3 answers it (its apps are created on first use, after this).
        werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
        from infra.local.upload_cors import with_upload_cors

        app = with_upload_cors(Dispatcher(create_backend_app))
        if wrap is not None:
            app = wrap(app)
        try:
            self._server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        except SystemExit:
            raise OSError(errno.EADDRINUSE, "address in use") from None
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.1), name="aws", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()


class LocalStackRunner:
    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        self.template_path = Path(options.template) if options.template else default_template_path()
        self.workers: list[Any] = []
        self.stack: LocalStack | None = None
        self.functions: LocalFunctions | None = None
        self.gateway: ApiGateway | None = None
        self.info: LocalInfo | None = None
        self._aws: _AwsServer | None = None
        self._http: LocalHttpServer | None = None
        self.started_at = time.monotonic()
        self.ready_seconds: float | None = None
        self.persistence: Persistence | None = None
        self.restored: Any = None
        self.mail: MailCapture | None = None
        self.stream_pollers: list[DynamoStreamPoller] = []  # kept after the stop: the last save asks them

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.options.host}:{self.options.aws_port}"

    @property
    def api_url(self) -> str:
        port = self._http.port if self._http else self.options.port
        return f"http://{self.options.host}:{port}"

    def start(self) -> LocalInfo:
        options = self.options
        template = load_template(self.template_path)  # a broken template fails before any port is taken
        try:
            self._open_data()
            wrap = self.persistence.quiesce.wrap if self.persistence else None
            self._aws = _bind(
                "AWS",
                options.host,
                options.aws_port,
                lambda: _AwsServer(options.host, options.aws_port, wrap),
            )
            return self._start(template)
        except BaseException:
            self.stop()
            raise

    def _start(self, template: dict[str, Any]) -> LocalInfo:
        options = self.options
        if self._aws is None:
            raise RuntimeError("the AWS endpoint is not bound")
        self._aws.start()
        self._configure_environment()
        import boto3

        declared = template.get("Parameters") or {}
        self.stack = bootstrap(
            default_clients,
            template=template,
            stack_name=STACK_NAME,
            region=options.region,
            parameters={
                **{k: v for k, v in self._local_parameters().items() if k in declared},
                **dict(options.parameters),
            },
        )
        scheduler_state = self._restore_data()
        # Published pages link to where this stack serves the site, not to a CloudFront domain;
        # the web desk (/desk/ here) calls the API from this stack's own origin.
        self.functions = local_functions(
            self.stack,
            overrides={
                "SITE_URL": f"{self.api_url}/site/",
                "DESK_ORIGINS": ",".join(self.own_origins),
                **LOCAL_ONLY_ENVIRONMENT,
            },
        )
        os.environ.update(self.functions.environment)
        self.gateway = ApiGateway(
            self.stack,
            self.functions.invoke,
            domain_name=f"{options.host}:{options.port}",
            scheme="http",
            base_path="",  # served at the root here, not under /{stage} as on execute-api
        )
        for function in self.functions.functions.values():
            _ = function.handler  # import now, like Lambda's init phase, not on the first request
        self._set_up_site()
        site = SiteReader(
            boto3.client("s3"),
            self._site_bucket(),
            response_headers_policy(self.stack.template, self.stack.resolver.resolve),
            not_found=error_page(self.stack.template),
        )
        desk = self._deploy_desk()
        gateway = self.gateway
        self.mail = MailCapture(region=options.region, folder=options.mail)
        mail = MailReader(self.mail)
        self._http = _bind(
            "HTTP",
            options.host,
            options.port,
            lambda: LocalHttpServer(
                options.host,
                options.port,
                gateway,
                site,
                read_timeout=options.read_timeout,
                desk=desk,
                mail=mail,
            ),
        )
        self._http.start(threading.Thread)
        self._start_event_sources(scheduler_state)
        demo_key = self._seed_demo_key()
        self.info = LocalInfo(
            api_url=self.api_url,
            site_url=f"{self.api_url}/site/",
            desk_url=f"{self.api_url}/desk/" if desk is not None else None,
            aws_endpoint_url=self.endpoint_url,
            region=options.region,
            demo_api_key=demo_key,
            demo_org_id=DEMO_ORG_ID,
            resources=self.stack.outputs(),
            template=str(self.template_path),
            data=str(self.persistence.folder.path.resolve()) if self.persistence else None,
            mail_url=f"{self.api_url}/mail/",
            mail=str(options.mail.resolve()) if options.mail else None,
        )
        self._write_info(self.info)
        if self.persistence is not None:
            self.persistence.start()
        self.ready_seconds = time.monotonic() - self.started_at
        return self.info

    def _configure_environment(self) -> None:
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts anything; never a real credential
                "AWS_DEFAULT_REGION": self.options.region,
                "AWS_REGION": self.options.region,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "false" if self.options.verbose else "true",
                "POWERTOOLS_LOG_LEVEL": "INFO" if self.options.verbose else "WARNING",
            }
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)

    def _local_parameters(self) -> dict[str, str]:
        """The template parameters this stack sets: ``DeskOrigins`` is its own origins, so the
        uploads bucket's CORS rules (the desk's origins) let the desk served here upload."""
        return {**LOCAL_PARAMETERS, "DeskOrigins": ",".join(self.own_origins)}

    @property
    def own_origins(self) -> list[str]:
        """The origins of this stack's pages: its URL, and ``localhost`` for a loopback address."""
        origins = [self.api_url]
        if self.options.host in ("127.0.0.1", "::1"):
            port = self._http.port if self._http else self.options.port
            origins.append(f"http://localhost:{port}")
        return origins

    def _deploy_desk(self) -> SiteReader | None:
        """The template's web desk into the site bucket (as its custom resource does on a deploy),
        and its reader for ``/desk/``; None when the template declares no desk."""
        import boto3

        if self.stack is None:
            return None
        s3 = boto3.client("s3")
        bucket = deploy_desk(
            s3,
            self.stack.template,
            self.stack.resolver.resolve,
            api_url=self.api_url,
            site_url=f"{self.api_url}/site/",
        )
        if bucket is None:
            return None
        return desk_reader(
            s3, bucket, self.stack.template, self.stack.resolver.resolve, api_origin=self.api_url
        )

    def _set_up_site(self) -> None:
        """What the template's ``Custom::SiteFiles`` resource does at a deploy: the site's static
        files and, on a fresh site, the empty newsroom (with this stack's settings)."""
        if self.stack is None or not resources_of_type(self.stack.template, "Custom::SiteFiles"):
            return
        from functions.handlers.site_files import set_up

        written = set_up()
        log.debug("site set up: %d objects written", len(written))

    def _site_bucket(self) -> str | None:
        if self.stack is None:
            return None
        buckets = resources_of_type(self.stack.template, "AWS::S3::Bucket")
        return self.stack.ref("SiteBucket") if "SiteBucket" in buckets else None

    # -- persistence hooks ------------------------------------------------------------------------

    def _open_data(self) -> None:
        """Lock the data folder and check its snapshot (``SnapshotError``) before any port is taken."""
        if self.options.data is None:
            return
        folder = DataFolder(self.options.data)
        folder.lock()
        if self.options.fresh and (kept := folder.set_aside()):
            log.info("--fresh: starting empty; the previous data is kept as %s", kept)
        self.persistence = Persistence(
            folder,
            region=self.options.region,
            interval=self.options.save_interval,
            extra=self._scheduler_state,
            streams=self._stream_positions,
        )
        self.persistence.check()

    def _restore_data(self) -> dict[str, Any]:
        if self.persistence is None:
            return {}
        self.restored, extra = self.persistence.load(default_clients)
        if self.restored is not None and self.stack is not None:
            self.stack.adopt(self.restored.renamed)  # KMS keys keep their saved ids
        if self.restored is not None:
            log.info("restored %s from %s", self.restored, self.persistence.folder.snapshot)
        return extra

    def _scheduler_state(self) -> dict[str, Any]:
        fired = next((w.fired for w in self.workers if isinstance(w, OneTimeScheduler)), set())
        return {"fired_schedules": sorted([group, name] for group, name in set(fired))}

    def _stream_positions(self) -> dict[str, str | None]:
        """Per table with a stream consumer: the last sequence number it is done with."""
        return {poller.source.table: poller.position for poller in self.stream_pollers}

    def _start_event_sources(self, saved: dict[str, Any] | None = None) -> None:
        """A worker per function event that runs locally, and the one-time scheduler; started."""
        if self.stack is None:
            raise RuntimeError("event sources need the stack and its functions")
        functions = resources_of_type(self.stack.template, "AWS::Serverless::Function")
        for name, spec in functions.items():
            for event_name, event in ((spec.get("Properties") or {}).get("Events") or {}).items():
                worker = self._event_source(name, event_name, event)
                if worker is not None:
                    self.workers.append(worker)
                if isinstance(worker, DynamoStreamPoller):
                    self.stream_pollers.append(worker)
        self.workers.append(self._one_time_scheduler(saved or {}))
        self.workers.append(self._queue_age_metrics())
        if self.mail is not None:
            self.workers.append(self.mail)
        for worker in self.workers:
            worker.start()

    def _one_time_scheduler(self, saved: dict[str, Any]) -> OneTimeScheduler:
        import boto3

        scheduler = OneTimeScheduler(
            boto3.client("scheduler"), boto3.client("sqs"), interval=self.options.scheduler_interval
        )
        scheduler.fired.update((str(g), str(n)) for g, n in saved.get("fired_schedules", []))
        return scheduler

    def _queue_age_metrics(self) -> Any:
        """SQS's ApproximateAgeOfOldestMessage, which moto does not publish (moderate --status)."""
        import boto3

        from infra.bootstrap import LOCAL_ACCOUNT
        from infra.local.metrics import QueueAgeMetrics

        return QueueAgeMetrics(
            boto3.client("cloudwatch"), account_id=LOCAL_ACCOUNT, region=self.options.region
        )

    def _event_source(self, function: str, event_name: str, event: dict[str, Any]) -> Any:
        """The worker that feeds one of the template's function events locally, if it runs here."""
        if self.stack is None or self.functions is None:
            raise RuntimeError("event sources need the stack and its functions")
        functions = self.functions
        kind = event.get("Type")
        props = self.stack.resolver.resolve(event.get("Properties") or {})

        def invoke(payload: dict[str, Any]) -> Any:
            return functions.invoke(function, payload)

        if kind == "SQS":
            return None if props.get("Enabled") is False else self._sqs_poller(function, props, invoke)
        if kind == "DynamoDB":
            return None if props.get("Enabled") is False else self._stream_poller(function, props, invoke)
        if kind in ("Schedule", "ScheduleV2"):
            if props.get("Enabled") is False or props.get("State") == "DISABLED":
                return None
            return self._schedule_timer(function, event_name, props, invoke)
        if kind != "Api":
            log.warning("%s.%s: event type %s does not run locally", function, event_name, kind)
        return None

    def _sqs_poller(self, function: str, props: dict[str, Any], invoke: Any) -> SqsPoller:
        import boto3

        sqs = boto3.client("sqs")
        arn = str(props["Queue"])
        source = SqsSource(
            function=function,
            queue_url=sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"],
            queue_arn=arn,
            batch_size=int(props.get("BatchSize", 10)),
            window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        )
        return SqsPoller(boto3.client("sqs"), source, invoke, region=self.options.region)

    def _stream_poller(self, function: str, props: dict[str, Any], invoke: Any) -> DynamoStreamPoller:
        import boto3

        sqs = boto3.client("sqs")
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        source = StreamSource(
            function=function,
            stream_arn=str(props["Stream"]),
            starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
            batch_size=int(props.get("BatchSize", 100)),
            window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            bisect=props.get("BisectBatchOnFunctionError") in (True, "true"),
            report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            max_retries=int(props.get("MaximumRetryAttempts", -1)),
            on_failure_url=(
                sqs.get_queue_url(QueueName=str(destination).rsplit(":", 1)[-1])["QueueUrl"]
                if destination and str(destination).startswith("arn:aws:sqs:")
                else None
            ),
        )
        return DynamoStreamPoller(streams_client(), sqs, source, invoke, region=self.options.region)

    def _schedule_timer(
        self, function: str, event_name: str, props: dict[str, Any], invoke: Any
    ) -> ScheduleTimer | None:
        expression = str(props.get("Schedule") or props.get("ScheduleExpression") or "")
        interval = self.options.sweep_interval or rate_seconds(expression)
        if interval is None:
            log.warning("%s.%s: %r does not run locally (only rate(...))", function, event_name, expression)
            return None
        rule = f"arn:aws:events:{self.options.region}:123456789012:rule/{function}-{event_name}"
        return ScheduleTimer(function, interval, invoke, region=self.options.region, rule_arn=rule)

    def _seed_demo_key(self) -> str:
        import boto3

        from functions.adapters.apigateway_usage_plans import ApiGatewayUsagePlans
        from functions.adapters.dynamodb_keys import DynamoKeyRepository
        from functions.domain import keys

        if self.stack is None:
            raise RuntimeError("seeding needs the stack")
        repo = DynamoKeyRepository(boto3.client("dynamodb"), self.stack.ref("KeysTable"))
        plans = ApiGatewayUsagePlans(boto3.client("apigateway"), self.stack.ref("OrganisationsUsagePlan"))
        folder = self.persistence.folder if self.persistence else None
        kept = folder.read_demo_key() if folder else None
        if kept is not None and _keep_demo_key(repo, plans, kept, now=datetime.now(UTC)):
            return kept
        issued = keys.create_key(
            repo, plans, org_id=DEMO_ORG_ID, org_name=DEMO_ORG_NAME, now=datetime.now(UTC)
        )
        if folder is not None:
            folder.write_demo_key(issued.token)
        return issued.token

    def _write_info(self, info: LocalInfo) -> None:
        write_info(self.options.info_path, info.as_json())  # 0600: it holds the demo key

    def stop(self) -> None:
        self._stop_workers()
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self.persistence is not None:
            try:
                self.persistence.close()  # the final snapshot, while moto's server still runs
            except Exception:
                log.exception("saving the local stack's data at the stop failed")
        if self._aws is not None:
            self._aws.stop()
            self._aws = None
        if self.info is not None:
            self._remove_info(self.info)
            self.info = None
        if self.persistence is not None:
            self.persistence.folder.unlock()

    def _stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        deadline = time.monotonic() + 3  # SIGTERM to exit: within 5 s in all
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self.workers.clear()

    def _remove_info(self, info: LocalInfo) -> None:
        """The info file, if it is still this stack's (another may have started since)."""
        try:
            current = json.loads(self.options.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            current = None
        if current and current.get("api_url") == info.api_url:
            self.options.info_path.unlink(missing_ok=True)
