"""The adapter that sends the sync's GETs over http.client: TLS checked as requests would, compressed answers,
kept-alive connections the server closed, and the requests it leaves to requests' own adapter."""

import datetime
import gzip
import http.server
import ipaddress
import socket
import ssl
import threading

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from source_stripe.direct_http import DirectAdapter

BODY = b'{"object": "list", "data": [], "has_more": false}'


class Answers(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    encoding = None
    close_after_answer = False

    def do_GET(self):
        body = gzip.compress(BODY) if self.encoding else BODY
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.encoding:
            self.send_header("Content-Encoding", self.encoding)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.close_after_answer

    def log_message(self, *args):
        pass


@pytest.fixture
def serving():
    """Starts a local server answering with `handler` (over TLS given a server context); all are stopped after the
    test."""
    servers = []

    def start(handler, tls_context=None):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls_context:
            server.socket = tls_context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: its PEM file and a server context presenting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return str(tmp_path / "cert.pem"), context


class RecordingFallback(requests.adapters.HTTPAdapter):
    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append(request.url)
        return super().send(request, **kwargs)


def session_with(adapter):
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def test_https_answers_are_read_when_the_certificate_checks_against_the_ca_bundle_given(serving, certificate):
    bundle, context = certificate
    server = serving(Answers, context)

    answer = session_with(DirectAdapter(RecordingFallback())).get(f"https://127.0.0.1:{server.server_port}/v1/customers", verify=bundle, timeout=5)

    assert (answer.status_code, answer.content) == (200, BODY)


def test_an_https_certificate_the_ca_bundle_does_not_vouch_for_is_refused(serving, certificate):
    _, context = certificate
    server = serving(Answers, context)

    with pytest.raises(requests.exceptions.SSLError):
        session_with(DirectAdapter(RecordingFallback())).get(f"https://127.0.0.1:{server.server_port}/v1/customers", timeout=5)


def test_gzipped_answers_arrive_decompressed(serving):
    server = serving(type("GzippedAnswers", (Answers,), {"encoding": "gzip"}))

    answer = session_with(DirectAdapter(RecordingFallback())).get(f"http://127.0.0.1:{server.server_port}/v1/customers", timeout=5)

    assert answer.json() == {"object": "list", "data": [], "has_more": False}


def test_a_body_in_an_encoding_not_asked_for_is_a_decoding_error_not_garbage(serving):
    server = serving(type("BrotliClaimingAnswers", (Answers,), {"encoding": "br"}))

    with pytest.raises(requests.exceptions.ContentDecodingError):
        session_with(DirectAdapter(RecordingFallback())).get(f"http://127.0.0.1:{server.server_port}/v1/customers", timeout=5)


def test_a_kept_alive_connection_the_server_closed_is_replaced_by_a_new_one(serving):
    server = serving(type("ClosingAnswers", (Answers,), {"close_after_answer": True}))
    session = session_with(DirectAdapter(RecordingFallback()))

    answers = [session.get(f"http://127.0.0.1:{server.server_port}/v1/customers", timeout=5) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_a_refused_connection_is_a_connection_error_as_with_requests_own_adapter():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(requests.exceptions.ConnectionError):
        session_with(DirectAdapter(RecordingFallback())).get(f"http://127.0.0.1:{port}/v1/customers", timeout=5)


def test_requests_through_a_proxy_go_through_requests_own_adapter(serving):
    server = serving(Answers)
    fallback = RecordingFallback()
    url = f"http://127.0.0.1:{server.server_port}/v1/customers"

    # The "proxy" is the server itself, which answers the proxied GET like any other.
    answer = session_with(DirectAdapter(fallback)).get(url, proxies={"http": f"http://127.0.0.1:{server.server_port}"}, timeout=5)

    assert answer.status_code == 200
    assert fallback.sent == [url]
