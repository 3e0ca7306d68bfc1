// The Node Atlas client `mongodb-atlas-api-client`, unchanged but for its
// base URL, against `atlas-ca serve`: its own Digest client lists and reads
// database users, creates a certificate and lists it.
// Usage: node atlas_api_client.js BASE GROUP_ID PUBLIC_KEY PRIVATE_KEY
const assert = require("assert");
const getMongodbAtlasApiClient = require("mongodb-atlas-api-client");
const HttpClient = require("mongodb-atlas-api-client/src/httpClient");
const urllib = require("urllib");

const [base, projectId, publicKey, privateKey] = process.argv.slice(2);
const baseUrl = `${base}/api/atlas/v1.0`;
// Other tests may keep both cores busy: allow more than urllib's 5 s.
const httpOptions = { timeout: 120000 };

(async () => {
  const atlas = getMongodbAtlasApiClient({ publicKey, privateKey, baseUrl, projectId });
  const users = await atlas.user.getAll({ httpOptions });
  assert.strictEqual(users.totalCount, users.results.length);
  assert.ok(users.results.some((u) => u.username === "alice" && u.x509Type === "MANAGED"));
  const dave = await atlas.user.get("dave", { httpOptions });
  assert.strictEqual(dave.databaseName, "admin");

  // The client's own Digest HTTP client, for the certificate endpoints.
  const http = new HttpClient(urllib, publicKey, privateKey);
  const certs = `${baseUrl}/groups/${projectId}/databaseUsers/alice/certs`;
  const pem = await http.fetch(certs, {
    method: "POST",
    data: { monthsUntilExpiration: 6 },
    contentType: "json",
    dataType: "text",
    ...httpOptions,
  });
  assert.ok(pem.startsWith("-----BEGIN CERTIFICATE-----\n"), pem.slice(0, 60));
  assert.ok(pem.endsWith("-----END PRIVATE KEY-----\n"));
  const list = await http.fetch(certs, httpOptions);
  assert.strictEqual(list.totalCount, 1);
  console.log(list.results[0]._id);
})().catch((e) => {
  console.error("FAILED", e.message);
  process.exit(1);
});
