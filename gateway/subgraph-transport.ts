/**
 * How the gateway's subgraph fetches travel: in-process to a subgraph running in this process
 * (platform/http/in-process-http.ts), else one POST over node:http(s) on a keep-alive agent per
 * subgraph, with a deadline. Not the Fetch API: its Request, Response, Headers and body streams
 * were about a tenth of the gateway's CPU under the distinct-pages load (bench:gateway), for a
 * body that is read whole and parsed once anyway.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { callInProcess } from "../platform/http/in-process-http.ts";

/** A subgraph's answer, read whole. */
export interface SubgraphAnswer {
  inProcess: boolean;
  status: number;
  headers: [string, string][];
  body: string;
}

/** Thrown when the deadline passes first (the caller names it "did not answer in time"). */
export class SubgraphTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "SubgraphTimeout";
  }
}

export class SubgraphTransport {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;
  /** The subgraph URL's parts, parsed once: node:http would parse a URL string at every request. */
  private readonly where: { protocol: string; hostname: string; port?: number; path: string } | undefined;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    const parsed = new URL(url);
    this.secure = parsed.protocol === "https:";
    // An IPv6 host comes bracketed in a URL; node:http wants it bare.
    // (A URL with credentials in it keeps node:http's own reading of them.)
    this.where =
      parsed.username || parsed.password
        ? undefined
        : { protocol: parsed.protocol, hostname: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), ...(parsed.port ? { port: Number(parsed.port) } : {}), path: parsed.pathname + parsed.search };
    // LIFO: the connection used last is warm; idle ones beyond the load close after 30 s.
    const options = { keepAlive: true, scheduling: "lifo" as const, timeout: 30_000 };
    this.agent = this.secure ? new HttpsAgent(options) : new HttpAgent(options);
  }

  /** `target`: the subgraph's URL (the one this transport was made for). */
  async send(target: string, method: string, headers: Record<string, string>, body: string): Promise<SubgraphAnswer> {
    const inProcess = callInProcess({ url: target, method, headers, body });
    if (inProcess) {
      const answer = await withDeadline(inProcess, this.timeoutMs);
      return { inProcess: true, status: answer.status, headers: [...answer.headers], body: answer.body };
    }
    return this.overHttp(target, method, headers, body);
  }

  close(): void {
    this.agent.destroy();
  }

  private overHttp(target: string, method: string, headers: Record<string, string>, body: string): Promise<SubgraphAnswer> {
    return new Promise<SubgraphAnswer>((resolve, reject) => {
      const payload = Buffer.from(body, "utf8");
      const send = this.secure ? httpsRequest : httpRequest;
      const options = { method, agent: this.agent, headers: { ...headers, "content-length": String(payload.length) } };
      const callback = (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", fail);
        response.on("end", () => {
          clearTimeout(timer);
          const answerHeaders: [string, string][] = [];
          const raw = response.rawHeaders;
          for (let index = 0; index + 1 < raw.length; index += 2) answerHeaders.push([raw[index]!.toLowerCase(), raw[index + 1]!]);
          resolve({ inProcess: false, status: response.statusCode ?? 502, headers: answerHeaders, body: Buffer.concat(chunks).toString("utf8") });
        });
      };
      const request = target === this.url && this.where ? send({ ...this.where, ...options }, callback) : send(target, options, callback);
      const timer = setTimeout(() => {
        request.destroy(new SubgraphTimeout(this.timeoutMs));
      }, this.timeoutMs);
      function fail(error: Error): void {
        clearTimeout(timer);
        reject(error);
      }
      request.on("error", fail);
      request.end(payload);
    });
  }
}

/** The same deadline for an in-process call. */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SubgraphTimeout(ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
