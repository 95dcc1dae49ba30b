"""Apache Kafka, single node in KRaft combined mode, assembled from Maven Central."""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import socket
import struct
from pathlib import Path

from .base import Launch, Service
from .common import DEPLOY_DIR, HOST, Context, ServiceError, pom_property, render, require_tool, run_checked
from .install import cached, maven_copy_dependencies

KAFKA_DIR = DEPLOY_DIR / "kafka"
POM = KAFKA_DIR / "pom.xml"
DEFAULT_HEAP = "-Xms256m -Xmx512m"
# What upstream bin/kafka-run-class.sh uses for the broker.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
]

# Test users of the SASL_PLAINTEXT listener; their passwords are new random ones at every start.
SCRAM_USER = "penstock-scram"
PLAIN_USER = "penstock-plain"
CERT_DAYS = "30"

API_METADATA = 3
API_VERSIONS = 18


class Kafka(Service):
    name = "kafka"
    env_var = "KAFKA_BOOTSTRAP_SERVERS"
    default_ports = {"broker": 9092, "controller": 9093, "sasl": 9094, "ssl": 9095}
    stop_timeout = 45.0

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._secured: dict[str, str] = {}  # exports for the SASL and SSL listeners, set by configure

    def version(self) -> str:
        version = os.environ.get("KAFKA_VERSION") or pom_property(POM, "kafka.version")
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise ServiceError(f"KAFKA_VERSION must look like 4.3.1, got {version!r}")
        return version

    @property
    def _major(self) -> int:
        return int(self.version().split(".")[0])

    def _lib_dir(self) -> Path:
        return self.ctx.cache_dir / f"kafka-{self.version()}" / "lib"

    def install(self) -> None:
        version = self.version()
        profile = "log4j2" if self._major >= 4 else "reload4j"

        def fetch(tmp: Path) -> None:
            maven_copy_dependencies(
                POM,
                tmp / "lib",
                properties={"kafka.version": version},
                profiles=(profile,),
                extra=("-DincludeScope=runtime",),
                log_path=self.ctx.log_file("kafka-install"),
            )

        cached(self.ctx.cache_dir / f"kafka-{version}", fetch, f"kafka {version}")

    def configure(self, data_dir: Path, ports: dict[str, int]) -> Launch:
        self.ctx.make_owned_dir(data_dir / "data")
        tls = _make_test_pki(data_dir / "tls", self.ctx.log_file(self.name))
        scram_password, plain_password = secrets.token_hex(16), secrets.token_hex(16)
        props = data_dir / "server.properties"
        props.write_text(
            render(
                KAFKA_DIR / "server.properties.in",
                broker_port=ports["broker"],
                controller_port=ports["controller"],
                sasl_port=ports["sasl"],
                ssl_port=ports["ssl"],
                log_dirs=data_dir / "data",
                plain_user=PLAIN_USER,
                plain_password=plain_password,
                ssl_keystore=tls["keystore"],
            )
        )
        self._secured = {
            "KAFKA_SASL_BOOTSTRAP_SERVERS": f"{HOST}:{ports['sasl']}",
            "KAFKA_SASL_SCRAM_USER": SCRAM_USER,
            "KAFKA_SASL_SCRAM_PASSWORD": scram_password,
            "KAFKA_SASL_PLAIN_USER": PLAIN_USER,
            "KAFKA_SASL_PLAIN_PASSWORD": plain_password,
            "KAFKA_SSL_BOOTSTRAP_SERVERS": f"{HOST}:{ports['ssl']}",
            "KAFKA_SSL_CA_LOCATION": str(tls["ca"]),
        }
        logging_flag = self._logging_flag(data_dir)
        java = require_tool("java")
        classpath = f"{self._lib_dir()}/*"
        run_checked(
            [
                java,
                logging_flag,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                _cluster_id(),
                "-c",
                str(props),
                "--add-scram",
                f"SCRAM-SHA-512=[name={SCRAM_USER},password={scram_password}]",
            ],
            what="kafka storage format",
            log_path=self.ctx.log_file(self.name),
            cwd=data_dir,
            **self.ctx.proc_kwargs(),
        )
        heap = (os.environ.get("KAFKA_HEAP_OPTS") or DEFAULT_HEAP).split()
        argv = [java, *heap, *JVM_FLAGS, logging_flag, "-cp", classpath, "kafka.Kafka", str(props)]
        return Launch(argv=argv, cwd=data_dir)

    def _logging_flag(self, data_dir: Path) -> str:
        if self._major >= 4:
            config = shutil.copy(KAFKA_DIR / "log4j2.properties", data_dir)
            return f"-Dlog4j2.configurationFile={config}"
        config = shutil.copy(KAFKA_DIR / "log4j.properties", data_dir)
        return f"-Dlog4j.configuration=file:{config}"

    def is_ready(self, ports: dict[str, int]) -> bool:
        try:
            return broker_count(HOST, ports["broker"]) > 0
        except (OSError, struct.error, ValueError):
            return False

    def exports(self, ports: dict[str, int]) -> dict[str, str]:
        return {self.env_var: f"{HOST}:{ports['broker']}", **self._secured}


def _make_test_pki(folder: Path, log_path: Path) -> dict[str, Path]:
    """A throw-away CA and a broker certificate for 127.0.0.1/localhost, as PEM files.

    `keystore` holds the broker's unencrypted PKCS#8 key and its certificate (Kafka's PEM
    keystore format); `ca` is the certificate clients trust (ssl.truststore.type=PEM).
    """
    openssl = require_tool("openssl")
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        folder / n for n in ("ca.key", "ca.pem", "broker.key", "broker.csr", "broker.pem")
    )
    extensions = folder / "broker.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    steps = [
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            ca_key,
            "-out",
            ca,
            "-days",
            CERT_DAYS,
            "-subj",
            "/CN=penstock test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        [
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            CERT_DAYS,
            "-extfile",
            extensions,
        ],
    ]
    for step in steps:
        run_checked([openssl, *map(str, step)], what=f"openssl {step[0]}", log_path=log_path)
    keystore = folder / "broker-keystore.pem"
    keystore.write_text(key.read_text() + cert.read_text())
    ca_key.unlink()  # nothing else may be signed with it
    return {"ca": ca, "keystore": keystore}


def _cluster_id() -> str:
    """A Kafka Uuid in its base64url form, as `kafka-storage random-uuid` prints it."""
    while True:
        text = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def broker_count(host: str, port: int, timeout: float = 3.0) -> int:
    """ApiVersions, then Metadata v4: how many brokers the cluster reports (0 = not serving yet)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        body = _request(sock, API_VERSIONS, 0, 1, b"")
        if struct.unpack(">h", body[:2])[0] != 0:
            return 0
        # Metadata v4: topics = null (all), allow_auto_topic_creation = false.
        body = _request(sock, API_METADATA, 4, 2, struct.pack(">ib", -1, 0))
        _throttle_ms, brokers = struct.unpack(">ii", body[:8])
        return int(brokers)


def _request(sock: socket.socket, api_key: int, version: int, correlation_id: int, body: bytes) -> bytes:
    client_id = b"penstock-services"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _read_exact(sock, 4))
    response = _read_exact(sock, size)
    if struct.unpack(">i", response[:4])[0] != correlation_id:
        raise ValueError("Kafka answered with an unexpected correlation id")
    return response[4:]


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("Kafka closed the connection")
        data += chunk
    return bytes(data)
