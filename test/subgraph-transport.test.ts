// The gateway's subgraph fetches over node:http (gateway/subgraph-transport.ts), against real
// HTTP servers on loopback: what a subgraph answers arrives whole, a silent or absent subgraph
// fails within the deadline, and connections are kept alive between fetches.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { after, describe, test } from "node:test";
import { SubgraphTimeout, SubgraphTransport } from "../gateway/subgraph-transport.ts";

const servers: Server[] = [];
const transports: SubgraphTransport[] = [];

async function serve(handler: (request: IncomingMessage, body: string, response: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => handler(request, Buffer.concat(chunks).toString("utf8"), response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return { url: `http://127.0.0.1:${address.port}/graphql`, server };
}

function transport(url: string, timeoutMs = 2_000): SubgraphTransport {
  const made = new SubgraphTransport(url, timeoutMs);
  transports.push(made);
  return made;
}

after(async () => {
  for (const made of transports) made.close();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

describe("the gateway's subgraph transport", () => {
  test("a POST arrives with its body and headers, and the answer's status, headers and body come back whole", async () => {
    // Multi-byte characters across many chunks: the body is decoded once, never per chunk.
    const big = "ñandú €uro 🦙 ".repeat(60_000);
    const { url } = await serve((request, body, response) => {
      const parsed = JSON.parse(body) as { query: string };
      response.writeHead(200, { "content-type": "application/json", "x-seen-authorization": String(request.headers.authorization), "x-seen-length": String(request.headers["content-length"]) });
      response.end(JSON.stringify({ data: { echo: parsed.query, big } }));
    });
    const body = JSON.stringify({ query: "{ ñ }" });
    const answer = await transport(url).send(url, "POST", { authorization: "Bearer t", "content-type": "application/json" }, body);
    assert.equal(answer.status, 200);
    assert.equal(answer.inProcess, false);
    const headers = new Map(answer.headers);
    assert.equal(headers.get("x-seen-authorization"), "Bearer t");
    assert.equal(headers.get("x-seen-length"), String(Buffer.byteLength(body)));
    assert.deepEqual(JSON.parse(answer.body), { data: { echo: "{ ñ }", big } });
  });

  test("a subgraph's error status is handed back as it came, for the data source to read", async () => {
    const { url } = await serve((_request, _body, response) => {
      response.writeHead(400, { "content-type": "application/json" });
      response.end(JSON.stringify({ errors: [{ message: "bad", extensions: { code: "BAD_USER_INPUT" } }] }));
    });
    const answer = await transport(url).send(url, "POST", {}, "{}");
    assert.equal(answer.status, 400);
    assert.match(answer.body, /BAD_USER_INPUT/);
  });

  test("a subgraph that never answers fails with SubgraphTimeout at the deadline", async () => {
    const { url } = await serve(() => undefined);
    const started = Date.now();
    await assert.rejects(transport(url, 300).send(url, "POST", {}, "{}"), SubgraphTimeout);
    assert.ok(Date.now() - started < 5_000);
  });

  test("a subgraph that is not there fails at once, not as a timeout", async () => {
    const { url, server } = await serve(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(transport(url).send(url, "POST", {}, "{}"), (error: unknown) => error instanceof Error && !(error instanceof SubgraphTimeout));
  });

  test("a subgraph that drops the connection mid-answer fails the fetch", async () => {
    const { url } = await serve((_request, _body, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      response.write('{"data":');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    await assert.rejects(transport(url).send(url, "POST", {}, "{}"));
  });

  test("fetches one after another reuse one kept-alive connection", async () => {
    const ports = new Set<number>();
    const { url } = await serve((request, _body, response) => {
      ports.add(request.socket.remotePort ?? -1);
      response.writeHead(200, { "content-type": "application/json" });
      response.end("{}");
    });
    const made = transport(url);
    for (let index = 0; index < 5; index++) assert.equal((await made.send(url, "POST", {}, "{}")).status, 200);
    assert.equal(ports.size, 1, `connections used: ${ports.size}`);
  });
});
