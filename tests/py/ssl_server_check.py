"""A TLS server with CERT_REQUIRED and a client that loads the atlas-ca PEM
(certificate + key in one file) with load_cert_chain, as drivers do.
Prints the subject the server saw. Usage: ca.pem server.pem client.pem"""
import socket
import ssl
import sys
import threading

ca, server_pem, client_pem = sys.argv[1:4]

server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(server_pem)
server_ctx.load_verify_locations(ca)
server_ctx.verify_mode = ssl.CERT_REQUIRED

listener = socket.create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
seen = {}


def serve():
    conn, _ = listener.accept()
    try:
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            seen["subject"] = tls.getpeercert()["subject"]
            tls.sendall(b"ok")
    except ssl.SSLError as e:
        seen["error"] = str(e)


thread = threading.Thread(target=serve)
thread.start()
client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client_ctx.load_verify_locations(ca)
client_ctx.load_cert_chain(client_pem)
try:
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.recv(2)
except (ssl.SSLError, OSError) as e:
    seen.setdefault("error", str(e))
thread.join()
if "error" in seen:
    print("refused:", seen["error"])
    sys.exit(1)
print(",".join(f"{k}={v}" for rdn in seen["subject"] for k, v in rdn))
