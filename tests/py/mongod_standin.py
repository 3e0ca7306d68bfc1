"""A stand-in mongod for MONGODB-X509: mockupdb behind TLS that requires a
client certificate from the given CA. It answers hello/isMaster, derives
the user from the client certificate's RFC 2253 subject (as mongod does),
accepts `authenticate` only for a user it knows, and `ping` only after.
Then pymongo, the real driver, logs in with tlsCertificateKeyFile = the
atlas-ca PEM and runs ping.

Usage: ca.pem server.pem client.pem expected-subject [known users...]"""
import ssl
import sys

import mockupdb
import pymongo
from cryptography import x509

ca, server_pem, client_pem, expected, *known = sys.argv[1:]
known = set(known) or {expected}

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(server_pem)
context.load_verify_locations(ca)
context.verify_mode = ssl.CERT_REQUIRED


def wrap_socket(sock, **_):
    return context.wrap_socket(sock, server_side=True)


mockupdb._ssl.wrap_socket = wrap_socket  # mockupdb's own TLS has no client auth
server = mockupdb.MockupDB(ssl=True)
authenticated = {}


def subject_of(request):
    der = request._client.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def handle(request):
    name = (request.command_name or "").lower()
    if name in ("ismaster", "hello"):
        return request.ok(ismaster=True, isWritablePrimary=True, helloOk=True,
                          minWireVersion=0, maxWireVersion=21, maxBsonObjectSize=16777216,
                          maxMessageSizeBytes=48000000, maxWriteBatchSize=100000)
    if name == "authenticate":
        user = subject_of(request)
        doc = request.doc
        if doc.get("mechanism") != "MONGODB-X509" or request.namespace.split(".")[0] != "$external":
            return request.fail("wrong mechanism or database", code=18)
        if "user" in doc and doc["user"] != user:
            return request.fail("user does not match the certificate", code=18)
        if user not in known:
            return request.fail(f"unknown user {user}", code=18)
        authenticated[request.client_port] = user
        return request.ok(user=user, dbname="$external")
    if name == "ping":
        if request.client_port not in authenticated:
            return request.fail("not authenticated", code=13)
        return request.ok()
    if name == "endsessions":
        return request.ok()
    return request.fail(f"unsupported command {name}")


server.autoresponds(handle)
port = server.run()
client = pymongo.MongoClient(
    f"mongodb://localhost:{port}/?authMechanism=MONGODB-X509&authSource=$external",
    tls=True, tlsCertificateKeyFile=client_pem, tlsCAFile=ca,
    serverSelectionTimeoutMS=60000, directConnection=True)
try:
    result = client.admin.command("ping")
finally:
    client.close()
    server.stop()
users = set(authenticated.values())
assert result.get("ok") == 1, result
assert users == {expected}, (users, expected)
print("authenticated as", expected)
