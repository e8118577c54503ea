// urql clients for the two tokens the sign-in gives: the person's consent token (the person
// view, alerts) and the sandbox client's partner token (the CRM view). Subscriptions go over
// graphql-ws on the same /graphql; the token travels in connection_init, never in the URL.
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type CombinedError } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";

export function graphqlClient(token: string): Client {
  const ws = createWsClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 0,
  });
  return new Client({
    url: "/graphql",
    // The answers are one person's data under one consent: nothing to share between views.
    requestPolicy: "network-only",
    // POST: the gateway refuses GET operations without a CSRF preflight header (Apollo's CSRF prevention).
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` }, credentials: "omit" }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    ],
  });
}

/** The fields the consent does not grant: the gateway answers them null with UNAUTHORIZED_FIELD_OR_TYPE and their path. */
export function notConsentedPaths(error: CombinedError | undefined): Set<string> {
  const paths = new Set<string>();
  for (const graphQLError of error?.graphQLErrors ?? []) {
    if (graphQLError.extensions?.code === "UNAUTHORIZED_FIELD_OR_TYPE" && graphQLError.path) paths.add(graphQLError.path.filter((part) => typeof part === "string").join("."));
  }
  return paths;
}

/** Errors other than "not consented", for the page to show. */
export function otherErrors(error: CombinedError | undefined): string[] {
  if (!error) return [];
  if (error.networkError) return [error.networkError.message];
  return error.graphQLErrors.filter((graphQLError) => graphQLError.extensions?.code !== "UNAUTHORIZED_FIELD_OR_TYPE").map((graphQLError) => `${String(graphQLError.extensions?.code ?? "ERROR")}: ${graphQLError.message}`);
}

/**
 * Whether a token still opens anything: over graphql-ws, whose refusal is a close code and a
 * reason rather than a failed HTTP request (which the browser would log as an error).
 */
export function probeAccess(token: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = createWsClient({
      url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      on: { closed: (event) => resolve(`socket closed ${(event as CloseEvent).code}: ${(event as CloseEvent).reason}`) },
    });
    ws.subscribe({ query: "subscription DashboardAccessCheck { alertCreated { id } }" }, {
      next: () => undefined,
      error: () => undefined,
      complete: () => undefined,
    });
    // Accepted: the token still works; say so and stop.
    setTimeout(() => {
      resolve("the gateway still accepts the token");
      void ws.dispose();
    }, 5000);
  });
}
