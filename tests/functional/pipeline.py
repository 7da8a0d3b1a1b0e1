"""The event pipeline on in-process moto, driven step by step, and webhook receivers on 127.0.0.1.

``Pipeline`` runs what the local stack runs in the background, one step at a time: the releases
table's stream into the events function (the local stack's own ``DynamoStreamPoller``), the
events queue into the delivery function and the publish queue into the publisher (its
``SqsPoller``), so a test decides when each happens. ``Receiver`` is an HTTP (or HTTPS) server
on 127.0.0.1 that answers what the test scripts and checks every request with the
``standardwebhooks`` library, as a real receiver would.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from standardwebhooks import Webhook, WebhookVerificationError

from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from infra.local.sources import DynamoStreamPoller, SqsPoller, SqsSource, StreamSource, streams_client


@dataclass
class Delivery:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None
    server_name: str | None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: answers with ``statuses`` in turn (then the last one again), checks
    each request's signature with ``secret`` (once set) and keeps them all."""

    statuses: list[int] = field(default_factory=lambda: [204])
    secret: str | None = None
    delay: float = 0.0
    redirect_to: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    tls: ssl.SSLContext | None = None
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver._keep(self, body)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses[min(len(receiver.deliveries), len(receiver.statuses)) - 1]
                self.send_response(status)
                if receiver.redirect_to and 300 <= status < 400:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.server_names: list[str | None] = []
        if self.tls is not None:
            self.tls.sni_callback = lambda sock, name, context: self.server_names.append(name)  # type: ignore[assignment]
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def _keep(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        verified, error = False, None
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError as failure:
                error = str(failure)
        name = self.server_names[-1] if getattr(self, "server_names", None) else None
        self.deliveries.append(Delivery(handler.path, headers, body, verified, error, name))

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class Pipeline:
    """The stack's consumers, run on demand."""

    def __init__(self, stack: LocalStack, functions: LocalFunctions) -> None:
        self.stack = stack
        self.functions = functions
        sqs = boto3.client("sqs")
        self.sqs = sqs
        source = StreamSource(
            function="EventsFunction",
            stream_arn=stack.attribute("ReleasesTable", "StreamArn"),
            bisect=True,
            report_failures=True,
        )
        self.events = DynamoStreamPoller(
            streams_client(), sqs, source, self._invoke("EventsFunction"), region="us-east-1", poll_interval=0
        )
        self.deliveries = self._poller("EventsQueue", "DeliveryFunction", batch=5)
        self.publisher = self._poller("PublishQueue", "PublisherFunction", batch=10)
        self.site_refresh = site_refresher(stack, functions)

    def _invoke(self, function: str) -> Callable[[dict[str, Any]], Any]:
        return lambda event: self.functions.invoke(function, event)

    def _poller(self, queue: str, function: str, *, batch: int) -> SqsPoller:
        source = SqsSource(
            function=function,
            queue_url=self.stack.ref(queue),
            queue_arn=self.stack.attribute(queue, "Arn"),
            batch_size=batch,
            report_failures=True,
        )
        return SqsPoller(self.sqs, source, self._invoke(function), region="us-east-1", wait_seconds=0)

    def visible(self, queue: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.ref(queue),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def step(self) -> None:
        """One round: the stream's new changes, then one batch of each queue."""
        self.events.run_once()
        self.publisher.run_once()
        self.site_refresh.run_once()
        self.events.run_once()
        self.deliveries.run_once()

    def settle(self, rounds: int = 20, before_each: Callable[[], None] | None = None) -> None:
        """Run rounds until nothing is waiting on the publish and events queues."""
        for _ in range(rounds):
            if before_each is not None:
                before_each()
            self.step()
            if not any(self.visible(q) for q in ("EventsQueue", "PublishQueue", "SiteRefreshQueue")):
                self.events.run_once()
                if not self.visible("EventsQueue"):
                    return
        raise AssertionError("the pipeline did not settle")


def site_refresher(
    stack: LocalStack, functions: LocalFunctions, invoke: Callable[[dict[str, Any]], Any] | None = None
) -> SqsPoller:
    """The site-refresh queue into its function, as the local stack polls it (FIFO); ``invoke``
    calls the function instead of ``functions.invoke`` (a benchmark timing it)."""
    source = SqsSource(
        function="SiteRefreshFunction",
        queue_url=stack.ref("SiteRefreshQueue"),
        queue_arn=stack.attribute("SiteRefreshQueue", "Arn"),
        batch_size=10,
        report_failures=True,
    )
    return SqsPoller(
        boto3.client("sqs"),
        source,
        invoke or (lambda event: functions.invoke("SiteRefreshFunction", event)),
        region="us-east-1",
        wait_seconds=0,
    )


def refresh_site(stack: LocalStack, functions: LocalFunctions, *, within: float = 30.0) -> int:
    """Run the site refresh until its queue is empty (what the publisher asked for is on the
    site); the number of batches it took. Another poller may hold the queue's one message group
    meanwhile (its batch in flight): this one then waits for it."""
    sqs = boto3.client("sqs")
    poller = site_refresher(stack, functions)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.ref("SiteRefreshQueue"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if not any(int(value) for value in attributes.values()):
            return poller.batches
        before = poller.batches
        poller.run_once()
        if poller.batches == before:
            time.sleep(0.02)
    raise AssertionError("the site refresh did not settle")


def publish(stack: LocalStack, functions: LocalFunctions, event: dict[str, Any]) -> Any:
    """The publisher invoked with ``event``, then the site refresh it asked for, as the stack
    runs them one after the other; the publisher's answer."""
    result = functions.invoke("PublisherFunction", event)
    refresh_site(stack, functions)
    return result


def dead_letters(stack: LocalStack, queue: str = "EventsDeadLetterQueue") -> list[dict[str, Any]]:
    """What waits in a dead-letter queue (received, so hidden for a while)."""
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=stack.ref(queue),
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not batch:
            return found
        found += batch


# -- TLS for an HTTPS receiver ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """A test CA and a server certificate it signed for ``names``, as files."""

    ca_pem: bytes
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """What the delivery function verifies against: this CA only."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())


def make_certificates(folder: Path, *names: str) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "press-intake test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{names[0]}.crt", folder / f"{names[0]}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Certificates(ca.public_bytes(serialization.Encoding.PEM), cert_file, key_file)


# -- the stack the pipeline runs on ----------------------------------------------------------------------

MAIL_PARAMETERS = {"MailIdentity": "press-intake.test", "SiteName": "Rovers Newsroom"}


def pipeline_stack(
    monkeypatch: Any, *, parameters: dict[str, str] | None = None
) -> tuple[LocalStack, LocalFunctions]:
    """The template's stack with e-mail on, its functions' environment applied as the local
    stack applies it (webhooks on 127.0.0.1 allowed), every function's caches fresh."""
    from functions import cold_start
    from infra.bootstrap import bootstrap
    from infra.lambdas import local_functions
    from tests.functional.conftest import template

    stack = bootstrap(
        boto3.client,
        template=template(),
        stack_name="pipeline",
        parameters=MAIL_PARAMETERS if parameters is None else parameters,
    )
    functions = local_functions(stack, overrides={"WEBHOOKS_ALLOW_LOOPBACK": "true"})
    for name, value in functions.environment.items():
        monkeypatch.setenv(name, value)
    cold_start.reset_all()
    return stack, functions


def api_client(org_id: str = "org-acme", org_name: str = "Acme Corporation") -> Any:
    from functions.handlers.api import lambda_handler
    from infra.apigateway.routes import api_routes
    from tests.functional.conftest import template
    from tests.helpers import ApiClient

    return ApiClient(lambda_handler, api_routes(template()), org_id, org_name)
